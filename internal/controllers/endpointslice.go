package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

// endpointSliceControllerName is the managed-by label value of the slices
// this controller writes, the one kube-controller-manager uses.
const endpointSliceControllerName = "endpointslice-controller.k8s.io"

// maxEndpointsPerSlice is kube-controller-manager's default
// --max-endpoints-per-slice.
const maxEndpointsPerSlice = 100

// sliceExpectationTTL is how long the controller waits for its own slice
// writes to reach the cache before it stops waiting for them.
const sliceExpectationTTL = 10 * time.Second

// serviceKind is the owner reference kind of a Service's EndpointSlices.
var serviceKind = v1.SchemeGroupVersion.WithKind("Service")

// EndpointSliceController keeps the discovery.k8s.io/v1 EndpointSlices of
// every Service with a selector: one IPv4 endpoint per matching pod with an
// address, grouped by the pod's resolved target ports, at most
// maxEndpointsPerSlice per slice. Services without a selector are left to
// their users.
type EndpointSliceController struct {
	client   kubernetes.Interface
	factory  informers.SharedInformerFactory
	services corelisters.ServiceLister
	pods     corelisters.PodLister
	nodes    corelisters.NodeLister
	slices   discoverylisters.EndpointSliceLister
	synced   []cache.InformerSynced
	writes   *sliceWrites
	runner   *runner[string]
}

// NewEndpointSliceController returns an EndpointSlice controller using
// factory's Service, Pod, Node and EndpointSlice informers.
func NewEndpointSliceController(client kubernetes.Interface, factory informers.SharedInformerFactory) *EndpointSliceController {
	c := &EndpointSliceController{
		client:   client,
		factory:  factory,
		services: factory.Core().V1().Services().Lister(),
		pods:     factory.Core().V1().Pods().Lister(),
		nodes:    factory.Core().V1().Nodes().Lister(),
		slices:   factory.Discovery().V1().EndpointSlices().Lister(),
		writes:   newSliceWrites(),
	}
	c.runner = newRunner("endpointslice", c.sync)
	c.synced = append(c.synced,
		addHandler(factory.Core().V1().Services().Informer(), serviceHandler(c.runner)),
		addHandler(factory.Core().V1().Pods().Informer(), podServiceHandler(c.services, c.runner)),
		addHandler(factory.Core().V1().Nodes().Informer(), nodeZoneHandler(c.services, c.runner)),
		addHandler(factory.Discovery().V1().EndpointSlices().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    c.sliceChanged,
			UpdateFunc: func(_, obj any) { c.sliceChanged(obj) },
			DeleteFunc: c.sliceChanged,
		}),
	)
	return c
}

// Run syncs Services with the given number of workers until ctx ends.
func (c *EndpointSliceController) Run(ctx context.Context, workers int) error {
	c.factory.Start(ctx.Done())
	if !waitForSync(ctx, "endpointslice", c.synced...) {
		return nil
	}
	c.runner.run(ctx, workers)
	return nil
}

// sliceChanged queues the Service of a slice this controller manages, so
// that edits and deletions by others are repaired.
func (c *EndpointSliceController) sliceChanged(obj any) {
	s, ok := unwrapTombstone(obj).(*discovery.EndpointSlice)
	if !ok || s.Labels[discovery.LabelManagedBy] != endpointSliceControllerName {
		return
	}
	if svc := s.Labels[discovery.LabelServiceName]; svc != "" {
		c.runner.add(s.Namespace + "/" + svc)
	}
}

// serviceHandler queues a Service on every change.
func serviceHandler(r *runner[string]) cache.ResourceEventHandler {
	enqueue := func(obj any) {
		if key, ok := keyOf(obj); ok {
			r.add(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	}
}

// podServiceHandler queues the Services whose selector matches a pod's old
// or new labels.
func podServiceHandler(services corelisters.ServiceLister, r *runner[string]) cache.ResourceEventHandler {
	enqueue := func(objs ...any) {
		seen := map[string]bool{}
		for _, obj := range objs {
			pod, ok := unwrapTombstone(obj).(*v1.Pod)
			if !ok {
				continue
			}
			for _, svc := range servicesSelecting(services, pod) {
				key := svc.Namespace + "/" + svc.Name
				if !seen[key] {
					seen[key] = true
					r.add(key)
				}
			}
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { enqueue(obj) },
		UpdateFunc: func(oldObj, newObj any) { enqueue(oldObj, newObj) },
		DeleteFunc: func(obj any) { enqueue(obj) },
	}
}

// nodeZoneHandler queues every Service with a selector when a node appears,
// goes or changes its zone label, since endpoints carry their node's zone.
func nodeZoneHandler(services corelisters.ServiceLister, r *runner[string]) cache.ResourceEventHandler {
	all := func() {
		list, err := services.List(labels.Everything())
		if err != nil {
			return
		}
		for _, svc := range list {
			if managesEndpoints(svc) {
				r.add(svc.Namespace + "/" + svc.Name)
			}
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { all() },
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*v1.Node)
			n, ok2 := newObj.(*v1.Node)
			if ok1 && ok2 && o.Labels[v1.LabelTopologyZone] == n.Labels[v1.LabelTopologyZone] {
				return
			}
			all()
		},
		DeleteFunc: func(any) { all() },
	}
}

// managesEndpoints reports whether the endpoint controllers own the
// endpoints of svc: it has a selector and is not an ExternalName service.
func managesEndpoints(svc *v1.Service) bool {
	return svc.Spec.Selector != nil && svc.Spec.Type != v1.ServiceTypeExternalName
}

// servicesSelecting returns the Services in the pod's namespace whose
// selector matches its labels.
func servicesSelecting(services corelisters.ServiceLister, pod *v1.Pod) []*v1.Service {
	list, err := services.Services(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*v1.Service
	for _, svc := range list {
		if managesEndpoints(svc) && labels.SelectorFromValidatedSet(svc.Spec.Selector).Matches(labels.Set(pod.Labels)) {
			out = append(out, svc)
		}
	}
	return out
}

// shouldPodBeInEndpoints reports whether a pod can be an endpoint at all:
// it has an address and has not finished; terminating pods count only when
// includeTerminating is set (Kubernetes' endpointutil.ShouldPodBeInEndpoints).
func shouldPodBeInEndpoints(pod *v1.Pod, includeTerminating bool) bool {
	if isPodTerminal(pod) || pod.Status.PodIP == "" {
		return false
	}
	return includeTerminating || pod.DeletionTimestamp == nil
}

// podIPv4 returns the pod's IPv4 address, or "".
func podIPv4(pod *v1.Pod) string {
	ips := []string{pod.Status.PodIP}
	for _, ip := range pod.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	for _, ip := range ips {
		if a, err := netip.ParseAddr(ip); err == nil && a.Is4() {
			return a.String()
		}
	}
	return ""
}

// findPort resolves a service port's targetPort on a pod: a number is used
// as is, a name is looked up among the pod's container ports (and
// restartable init containers) of the same protocol (Kubernetes'
// podutil.FindPort).
func findPort(pod *v1.Pod, sp *v1.ServicePort) (int32, bool) {
	tp := sp.TargetPort
	if tp.Type == intstr.Int {
		if tp.IntVal == 0 {
			return sp.Port, true
		}
		return tp.IntVal, true
	}
	proto := protocolOrTCP(sp.Protocol)
	containers := append([]v1.Container(nil), pod.Spec.Containers...)
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways {
			containers = append(containers, c)
		}
	}
	for _, c := range containers {
		for _, p := range c.Ports {
			if p.Name == tp.StrVal && protocolOrTCP(p.Protocol) == proto {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

// protocolOrTCP returns p, defaulting to TCP as the API server does.
func protocolOrTCP(p v1.Protocol) v1.Protocol {
	if p == "" {
		return v1.ProtocolTCP
	}
	return p
}

// endpointLabels returns the labels the controllers put on what they write
// for svc: the Service's own labels without reserved keys, the headless
// label for a headless Service, and extra.
func endpointLabels(svc *v1.Service, reserved []string, extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range svc.Labels {
		out[k] = v
	}
	for _, k := range reserved {
		delete(out, k)
	}
	delete(out, v1.IsHeadlessService)
	if svc.Spec.ClusterIP == v1.ClusterIPNone {
		out[v1.IsHeadlessService] = ""
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// podHostname returns the hostname an endpoint of pod carries for svc: the
// pod's hostname when its subdomain names the Service.
func podHostname(pod *v1.Pod, svc *v1.Service) string {
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name && pod.Namespace == svc.Namespace {
		return pod.Spec.Hostname
	}
	return ""
}

// podRef returns the target reference of a pod's endpoint.
func podRef(pod *v1.Pod) *v1.ObjectReference {
	return &v1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}
}

// sliceGroup is the endpoints that share one resolved port list.
type sliceGroup struct {
	ports     []discovery.EndpointPort
	endpoints []discovery.Endpoint
}

// portsKey identifies a port list.
func portsKey(ports []discovery.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		name, proto, app := "", "", ""
		var num int32
		if p.Name != nil {
			name = *p.Name
		}
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		if p.AppProtocol != nil {
			app = *p.AppProtocol
		}
		if p.Port != nil {
			num = *p.Port
		}
		fmt.Fprintf(&b, "%s/%s/%d/%s;", name, proto, num, app)
	}
	return b.String()
}

// endpointID identifies an endpoint across syncs: its pod, else its address.
func endpointID(ep *discovery.Endpoint) string {
	if ep.TargetRef != nil && ep.TargetRef.UID != "" {
		return "uid:" + string(ep.TargetRef.UID)
	}
	if len(ep.Addresses) > 0 {
		return "ip:" + ep.Addresses[0]
	}
	return ""
}

// desiredSliceGroups computes, from the pods matching svc's selector, the
// IPv4 endpoints of svc grouped by resolved port list, keyed by portsKey.
func desiredSliceGroups(svc *v1.Service, pods []*v1.Pod, zoneOf func(node string) string) map[string]*sliceGroup {
	groups := map[string]*sliceGroup{}
	publish := svc.Spec.PublishNotReadyAddresses
	for _, pod := range pods {
		if !shouldPodBeInEndpoints(pod, true) {
			continue
		}
		ip := podIPv4(pod)
		if ip == "" {
			continue
		}
		var ports []discovery.EndpointPort
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			num, ok := findPort(pod, sp)
			if !ok {
				continue
			}
			ports = append(ports, discovery.EndpointPort{
				Name:        ptrTo(sp.Name),
				Port:        ptrTo(num),
				Protocol:    ptrTo(protocolOrTCP(sp.Protocol)),
				AppProtocol: sp.AppProtocol,
			})
		}
		serving := isPodReady(pod)
		terminating := pod.DeletionTimestamp != nil
		ready := publish || (serving && !terminating)
		ep := discovery.Endpoint{
			Addresses:  []string{ip},
			Conditions: discovery.EndpointConditions{Ready: ptrTo(ready), Serving: ptrTo(serving), Terminating: ptrTo(terminating)},
			TargetRef:  podRef(pod),
		}
		if h := podHostname(pod, svc); h != "" {
			ep.Hostname = ptrTo(h)
		}
		if pod.Spec.NodeName != "" {
			ep.NodeName = ptrTo(pod.Spec.NodeName)
			if z := zoneOf(pod.Spec.NodeName); z != "" {
				ep.Zone = ptrTo(z)
			}
		}
		key := portsKey(ports)
		g := groups[key]
		if g == nil {
			g = &sliceGroup{ports: ports}
			groups[key] = g
		}
		g.endpoints = append(g.endpoints, ep)
	}
	return groups
}

// slicePlan is what one EndpointSlice sync writes.
type slicePlan struct {
	create []*discovery.EndpointSlice
	update []*discovery.EndpointSlice
	delete []*discovery.EndpointSlice
}

// sortEndpoints orders endpoints by address, then pod.
func sortEndpoints(eps []discovery.Endpoint) {
	sort.SliceStable(eps, func(i, j int) bool {
		ai, aj := "", ""
		if len(eps[i].Addresses) > 0 {
			ai = eps[i].Addresses[0]
		}
		if len(eps[j].Addresses) > 0 {
			aj = eps[j].Addresses[0]
		}
		pi, erri := netip.ParseAddr(ai)
		pj, errj := netip.ParseAddr(aj)
		if erri == nil && errj == nil && pi != pj {
			return pi.Less(pj)
		}
		if ai != aj {
			return ai < aj
		}
		return endpointID(&eps[i]) < endpointID(&eps[j])
	})
}

// planEndpointSlices decides how to turn the existing managed IPv4 slices of
// svc into the desired groups with as few writes as possible: endpoints stay
// in the slice that already holds them, new ones fill slices with room,
// slices are reused (updated in place) before new ones are created, and
// slices left empty are deleted. A Service with no endpoints keeps one empty
// placeholder slice, as in Kubernetes. newName returns a fresh slice name.
func planEndpointSlices(svc *v1.Service, existing []*discovery.EndpointSlice, groups map[string]*sliceGroup, newName func() string) slicePlan {
	var plan slicePlan
	sort.Slice(existing, func(i, j int) bool { return existing[i].Name < existing[j].Name })
	meta := func(s *discovery.EndpointSlice) {
		s.Labels = endpointLabels(svc, []string{discovery.LabelServiceName, discovery.LabelManagedBy}, map[string]string{
			discovery.LabelServiceName: svc.Name,
			discovery.LabelManagedBy:   endpointSliceControllerName,
		})
		s.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(svc, serviceKind)}
		s.AddressType = discovery.AddressTypeIPv4
	}
	// finish records the write, if any, that makes old hold ports and eps.
	finish := func(old *discovery.EndpointSlice, ports []discovery.EndpointPort, eps []discovery.Endpoint) {
		sortEndpoints(eps)
		var s *discovery.EndpointSlice
		if old == nil {
			s = &discovery.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: newName(), Namespace: svc.Namespace}}
		} else {
			s = old.DeepCopy()
		}
		meta(s)
		s.Ports = ports
		s.Endpoints = eps
		switch {
		case old == nil:
			plan.create = append(plan.create, s)
		case !sliceEqual(old, s):
			plan.update = append(plan.update, s)
		}
	}

	if len(groups) == 0 {
		keep := -1
		for i, s := range existing {
			if len(s.Endpoints) == 0 && len(s.Ports) == 0 {
				keep = i
				break
			}
		}
		if keep < 0 && len(existing) > 0 {
			keep = 0
		}
		for i, s := range existing {
			if i != keep {
				plan.delete = append(plan.delete, s)
			}
		}
		if keep < 0 {
			finish(nil, nil, []discovery.Endpoint{})
		} else {
			finish(existing[keep], nil, []discovery.Endpoint{})
		}
		return plan
	}

	byKey := map[string][]*discovery.EndpointSlice{}
	var spare []*discovery.EndpointSlice
	for _, s := range existing {
		k := portsKey(s.Ports)
		if groups[k] == nil {
			spare = append(spare, s)
			continue
		}
		byKey[k] = append(byKey[k], s)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	type fill struct {
		old *discovery.EndpointSlice
		eps []discovery.Endpoint
	}
	var spareEmpty []*discovery.EndpointSlice
	var fills []*struct {
		fill
		ports []discovery.EndpointPort
	}
	for _, k := range keys {
		g := groups[k]
		remaining := map[string]*discovery.Endpoint{}
		var order []string
		for i := range g.endpoints {
			id := endpointID(&g.endpoints[i])
			if _, dup := remaining[id]; dup {
				continue
			}
			remaining[id] = &g.endpoints[i]
			order = append(order, id)
		}
		var kept []*fill
		for _, s := range byKey[k] {
			f := &fill{old: s}
			for i := range s.Endpoints {
				id := endpointID(&s.Endpoints[i])
				if ep, ok := remaining[id]; ok && len(f.eps) < maxEndpointsPerSlice {
					f.eps = append(f.eps, *ep)
					delete(remaining, id)
				}
			}
			kept = append(kept, f)
		}
		var left []discovery.Endpoint
		for _, id := range order {
			if ep, ok := remaining[id]; ok {
				left = append(left, *ep)
			}
		}
		// New endpoints go first into slices already holding some, then
		// into emptied or spare slices, then into new ones.
		for _, f := range kept {
			if len(f.eps) > 0 && len(left) > 0 {
				n := min(maxEndpointsPerSlice-len(f.eps), len(left))
				f.eps = append(f.eps, left[:n]...)
				left = left[n:]
			}
		}
		for _, f := range kept {
			if len(f.eps) == 0 && len(left) > 0 {
				n := min(maxEndpointsPerSlice, len(left))
				f.eps = append(f.eps, left[:n]...)
				left = left[n:]
			}
		}
		for len(left) > 0 {
			n := min(maxEndpointsPerSlice, len(left))
			kept = append(kept, &fill{eps: left[:n:n]})
			left = left[n:]
		}
		for _, f := range kept {
			if f.old != nil && len(f.eps) == 0 {
				spareEmpty = append(spareEmpty, f.old)
				continue
			}
			fills = append(fills, &struct {
				fill
				ports []discovery.EndpointPort
			}{*f, g.ports})
		}
	}
	spare = append(spare, spareEmpty...)
	for _, f := range fills {
		if f.old == nil && len(spare) > 0 {
			f.old, spare = spare[0], spare[1:]
		}
		finish(f.old, f.ports, append([]discovery.Endpoint(nil), f.eps...))
	}
	plan.delete = append(plan.delete, spare...)
	return plan
}

// sliceEqual reports whether two slices carry the same managed content.
func sliceEqual(a, b *discovery.EndpointSlice) bool {
	return a.AddressType == b.AddressType &&
		equality.Semantic.DeepEqual(a.Labels, b.Labels) &&
		equality.Semantic.DeepEqual(a.OwnerReferences, b.OwnerReferences) &&
		equality.Semantic.DeepEqual(a.Ports, b.Ports) &&
		equality.Semantic.DeepEqual(a.Endpoints, b.Endpoints)
}

// sync reconciles the EndpointSlices of one Service.
func (c *EndpointSliceController) sync(ctx context.Context, key string) outcome {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return noRetry(err)
	}
	if !c.writes.caughtUp(key, c.slices.EndpointSlices(ns)) {
		return retry(errStaleCache)
	}
	existing, err := c.slices.EndpointSlices(ns).List(labels.SelectorFromValidatedSet(labels.Set{
		discovery.LabelServiceName: name,
		discovery.LabelManagedBy:   endpointSliceControllerName,
	}))
	if err != nil {
		return retry(err)
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		// The garbage collector would delete the slices through their owner
		// reference; deleting them here keeps proxies from using them meanwhile.
		return retry(c.apply(ctx, key, slicePlan{delete: existing}))
	}
	if err != nil {
		return retry(err)
	}
	if !managesEndpoints(svc) || svc.DeletionTimestamp != nil {
		return done()
	}
	pods, err := c.pods.Pods(ns).List(labels.SelectorFromValidatedSet(svc.Spec.Selector))
	if err != nil {
		return retry(err)
	}
	groups := desiredSliceGroups(svc, pods, c.zoneOf)
	var ipv4 []*discovery.EndpointSlice
	var stale []*discovery.EndpointSlice
	for _, s := range existing {
		switch {
		case !metav1.IsControlledBy(s, svc):
			// A slice of an earlier Service of the same name.
			stale = append(stale, s)
		case s.AddressType == discovery.AddressTypeIPv4:
			ipv4 = append(ipv4, s)
		default:
			stale = append(stale, s)
		}
	}
	plan := planEndpointSlices(svc, ipv4, groups, func() string { return generateName(svc.Name + "-") })
	plan.delete = append(plan.delete, stale...)
	return retry(c.apply(ctx, key, plan))
}

// zoneOf returns the zone label of a cached node, or "".
func (c *EndpointSliceController) zoneOf(node string) string {
	n, err := c.nodes.Get(node)
	if err != nil {
		return ""
	}
	return n.Labels[v1.LabelTopologyZone]
}

// apply writes a plan: creates first, then updates, then, only when those
// all succeeded, deletes, so that traffic always has somewhere to go.
func (c *EndpointSliceController) apply(ctx context.Context, key string, plan slicePlan) error {
	var errs []error
	for _, s := range plan.create {
		created, err := c.client.DiscoveryV1().EndpointSlices(s.Namespace).Create(ctx, s, metav1.CreateOptions{})
		switch {
		case err == nil:
			c.writes.created(key, created.Name)
		case apierrors.HasStatusCause(err, v1.NamespaceTerminatingCause):
		default:
			errs = append(errs, errorf("endpointslice %s: create %s: %w", key, s.Name, err))
		}
	}
	for _, s := range plan.update {
		_, err := c.client.DiscoveryV1().EndpointSlices(s.Namespace).Update(ctx, s, metav1.UpdateOptions{})
		switch {
		case err == nil:
			c.writes.updated(key, s.Name, s.ResourceVersion)
		case apierrors.IsNotFound(err):
			errs = append(errs, errStaleCache)
		default:
			errs = append(errs, errorf("endpointslice %s: update %s: %w", key, s.Name, err))
		}
	}
	if len(errs) > 0 {
		// A slice meant to take over endpoints may be missing: keep the
		// old ones until a retry succeeds.
		return errors.Join(errs...)
	}
	for _, s := range plan.delete {
		err := c.client.DiscoveryV1().EndpointSlices(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{})
		switch {
		case err == nil, apierrors.IsNotFound(err):
			c.writes.deleted(key, s.Name)
		default:
			errs = append(errs, errorf("endpointslice %s: delete %s: %w", key, s.Name, err))
		}
	}
	return errors.Join(errs...)
}

// sliceWrite is one slice write the cache has yet to show.
type sliceWrite struct {
	// gone is true for a deletion, false for a create or update.
	gone bool
	// oldVersion is the resourceVersion an update replaced; the write shows
	// once the cache holds another one.
	oldVersion string
	at         time.Time
}

// sliceWrites remembers, per Service, the slice writes the informer cache
// has not reflected yet, so that a sync never plans from a cache that
// misses its own earlier writes (which would create duplicate slices).
type sliceWrites struct {
	mu      sync.Mutex
	pending map[string]map[string]sliceWrite
	now     func() time.Time
}

// newSliceWrites returns an empty write tracker.
func newSliceWrites() *sliceWrites {
	return &sliceWrites{pending: map[string]map[string]sliceWrite{}, now: time.Now}
}

// record notes a write to slice name of the Service key.
func (w *sliceWrites) record(key, name string, sw sliceWrite) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pending[key] == nil {
		w.pending[key] = map[string]sliceWrite{}
	}
	sw.at = w.now()
	w.pending[key][name] = sw
}

// created notes a created slice.
func (w *sliceWrites) created(key, name string) { w.record(key, name, sliceWrite{}) }

// updated notes an update of a slice that was at version oldVersion.
func (w *sliceWrites) updated(key, name, oldVersion string) {
	if oldVersion == "" {
		return
	}
	w.record(key, name, sliceWrite{oldVersion: oldVersion})
}

// deleted notes a deleted slice.
func (w *sliceWrites) deleted(key, name string) { w.record(key, name, sliceWrite{gone: true}) }

// caughtUp reports whether the cache shows every write recorded for the
// Service key, forgetting those it shows and those older than
// sliceExpectationTTL.
func (w *sliceWrites) caughtUp(key string, lister discoverylisters.EndpointSliceNamespaceLister) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	ok := true
	for name, sw := range w.pending[key] {
		s, err := lister.Get(name)
		var shown bool
		switch {
		case sw.gone:
			shown = apierrors.IsNotFound(err)
		case sw.oldVersion != "":
			shown = err != nil || s.ResourceVersion != sw.oldVersion
		default:
			shown = err == nil
		}
		if shown || w.now().Sub(sw.at) > sliceExpectationTTL {
			delete(w.pending[key], name)
			continue
		}
		ok = false
	}
	if len(w.pending[key]) == 0 {
		delete(w.pending, key)
	}
	return ok
}
