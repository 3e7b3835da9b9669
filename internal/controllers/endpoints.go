package controllers

import (
	"context"
	"maps"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// Endpoints labels as kube-controller-manager's endpoint controller sets them.
const (
	// endpointsManagedByLabel marks Endpoints written by a controller.
	endpointsManagedByLabel = "endpoints.kubernetes.io/managed-by"
	// endpointsControllerName is this controller's managed-by value.
	endpointsControllerName = "endpoint-controller"
	// maxEndpointsCapacity is how many addresses one Endpoints object holds
	// before the rest are dropped and it is annotated over capacity.
	maxEndpointsCapacity = 1000
)

// EndpointsController keeps the core/v1 Endpoints object of every Service
// with a selector: one object named like the Service whose subsets group
// the matching pods' addresses (ready and not ready) by their resolved
// ports. It deletes the object when the Service goes; Services without a
// selector keep the Endpoints their users write.
type EndpointsController struct {
	client    kubernetes.Interface
	factory   informers.SharedInformerFactory
	services  corelisters.ServiceLister
	pods      corelisters.PodLister
	endpoints corelisters.EndpointsLister
	synced    []cache.InformerSynced
	runner    *runner[string]

	mu sync.Mutex
	// gone holds the keys of Services seen deleted whose Endpoints are
	// still to be deleted, whoever wrote them.
	gone map[string]bool
}

// NewEndpointsController returns an Endpoints controller using factory's
// Service, Pod and Endpoints informers.
func NewEndpointsController(client kubernetes.Interface, factory informers.SharedInformerFactory) *EndpointsController {
	c := &EndpointsController{
		client:    client,
		factory:   factory,
		services:  factory.Core().V1().Services().Lister(),
		pods:      factory.Core().V1().Pods().Lister(),
		endpoints: factory.Core().V1().Endpoints().Lister(),
		gone:      map[string]bool{},
	}
	c.runner = newRunner("endpoints", c.sync)
	services := serviceHandler(c.runner).(cache.ResourceEventHandlerFuncs)
	services.DeleteFunc = func(obj any) {
		if key, ok := keyOf(obj); ok {
			c.mu.Lock()
			c.gone[key] = true
			c.mu.Unlock()
			c.runner.add(key)
		}
	}
	enqueue := func(obj any) {
		if key, ok := keyOf(obj); ok {
			c.runner.add(key)
		}
	}
	c.synced = append(c.synced,
		addHandler(factory.Core().V1().Services().Informer(), services),
		addHandler(factory.Core().V1().Pods().Informer(), podServiceHandler(c.services, c.runner)),
		addHandler(factory.Core().V1().Endpoints().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    enqueue,
			UpdateFunc: func(_, obj any) { enqueue(obj) },
			DeleteFunc: enqueue,
		}),
	)
	return c
}

// Run syncs Services with the given number of workers until ctx ends.
func (c *EndpointsController) Run(ctx context.Context, workers int) error {
	c.factory.Start(ctx.Done())
	if !waitForSync(ctx, "endpoints", c.synced...) {
		return nil
	}
	c.runner.run(ctx, workers)
	return nil
}

// desiredSubsets computes the Endpoints subsets of svc from the pods
// matching its selector, as Kubernetes does: each pod's address goes into
// the subset of its resolved ports, ready or not ready; terminating pods
// are left out unless the Service publishes not-ready addresses, which also
// makes every address ready.
func desiredSubsets(svc *v1.Service, pods []*v1.Pod) []v1.EndpointSubset {
	tolerate := svc.Spec.PublishNotReadyAddresses
	headless := svc.Spec.ClusterIP == v1.ClusterIPNone
	type group struct {
		ports    []v1.EndpointPort
		ready    []v1.EndpointAddress
		notReady []v1.EndpointAddress
	}
	groups := map[string]*group{}
	for _, pod := range pods {
		if !shouldPodBeInEndpoints(pod, tolerate) {
			continue
		}
		ip := podIPv4(pod)
		if ip == "" {
			continue
		}
		addr := v1.EndpointAddress{IP: ip, Hostname: podHostname(pod, svc), TargetRef: podRef(pod)}
		if pod.Spec.NodeName != "" {
			addr.NodeName = ptrTo(pod.Spec.NodeName)
		}
		var ports []v1.EndpointPort
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			num, ok := findPort(pod, sp)
			if !ok {
				continue
			}
			ports = append(ports, v1.EndpointPort{Name: sp.Name, Port: num, Protocol: protocolOrTCP(sp.Protocol), AppProtocol: sp.AppProtocol})
		}
		if len(ports) == 0 && !(headless && len(svc.Spec.Ports) == 0) {
			continue
		}
		sortEndpointPorts(ports)
		key := endpointPortsKey(ports)
		g := groups[key]
		if g == nil {
			g = &group{ports: ports}
			groups[key] = g
		}
		if tolerate || isPodReady(pod) {
			g.ready = append(g.ready, addr)
		} else {
			g.notReady = append(g.notReady, addr)
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	subsets := []v1.EndpointSubset{}
	for _, k := range keys {
		g := groups[k]
		sortAddresses(g.ready)
		sortAddresses(g.notReady)
		subsets = append(subsets, v1.EndpointSubset{Addresses: g.ready, NotReadyAddresses: g.notReady, Ports: g.ports})
	}
	return subsets
}

// truncateSubsets keeps at most capacity addresses, ready ones first, in
// subset order, and reports whether any were dropped. Kubernetes also caps
// Endpoints at 1000 addresses; EndpointSlices carry them all.
func truncateSubsets(subsets []v1.EndpointSubset, capacity int) ([]v1.EndpointSubset, bool) {
	total := 0
	for _, ss := range subsets {
		total += len(ss.Addresses) + len(ss.NotReadyAddresses)
	}
	if total <= capacity {
		return subsets, false
	}
	left := capacity
	for i := range subsets {
		n := min(left, len(subsets[i].Addresses))
		subsets[i].Addresses = subsets[i].Addresses[:n]
		left -= n
	}
	for i := range subsets {
		n := min(left, len(subsets[i].NotReadyAddresses))
		subsets[i].NotReadyAddresses = subsets[i].NotReadyAddresses[:n]
		left -= n
	}
	out := subsets[:0]
	for _, ss := range subsets {
		if len(ss.Addresses)+len(ss.NotReadyAddresses) > 0 {
			out = append(out, ss)
		}
	}
	return out, true
}

// sortEndpointPorts orders ports by name, then number and protocol.
func sortEndpointPorts(ports []v1.EndpointPort) {
	sort.Slice(ports, func(i, j int) bool {
		if ports[i].Name != ports[j].Name {
			return ports[i].Name < ports[j].Name
		}
		if ports[i].Port != ports[j].Port {
			return ports[i].Port < ports[j].Port
		}
		return ports[i].Protocol < ports[j].Protocol
	})
}

// endpointPortsKey identifies a sorted port list.
func endpointPortsKey(ports []v1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		app := ""
		if p.AppProtocol != nil {
			app = *p.AppProtocol
		}
		b.WriteString(p.Name + "/" + string(p.Protocol) + "/" + strconv.Itoa(int(p.Port)) + "/" + app + ";")
	}
	return b.String()
}

// sortAddresses orders addresses by IP, then pod name.
func sortAddresses(addrs []v1.EndpointAddress) {
	sort.Slice(addrs, func(i, j int) bool {
		a, erra := netip.ParseAddr(addrs[i].IP)
		b, errb := netip.ParseAddr(addrs[j].IP)
		if erra == nil && errb == nil && a != b {
			return a.Less(b)
		}
		if addrs[i].IP != addrs[j].IP {
			return addrs[i].IP < addrs[j].IP
		}
		ni, nj := "", ""
		if addrs[i].TargetRef != nil {
			ni = addrs[i].TargetRef.Name
		}
		if addrs[j].TargetRef != nil {
			nj = addrs[j].TargetRef.Name
		}
		return ni < nj
	})
}

// sync reconciles the Endpoints of one Service.
func (c *EndpointsController) sync(ctx context.Context, key string) outcome {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return noRetry(err)
	}
	current, err := c.endpoints.Endpoints(ns).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return retry(err)
	}
	if apierrors.IsNotFound(err) {
		current = nil
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return retry(c.deleteOrphan(ctx, key, current))
	}
	if err != nil {
		return retry(err)
	}
	c.mu.Lock()
	delete(c.gone, key)
	c.mu.Unlock()
	if !managesEndpoints(svc) || svc.DeletionTimestamp != nil {
		return done()
	}
	pods, err := c.pods.Pods(ns).List(labels.SelectorFromValidatedSet(svc.Spec.Selector))
	if err != nil {
		return retry(err)
	}
	subsets, truncated := truncateSubsets(desiredSubsets(svc, pods), maxEndpointsCapacity)
	wantLabels := endpointLabels(svc, []string{endpointsManagedByLabel}, map[string]string{endpointsManagedByLabel: endpointsControllerName})
	var annotations map[string]string
	if current != nil {
		annotations = maps.Clone(current.Annotations)
	}
	if truncated {
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[v1.EndpointsOverCapacity] = "truncated"
	} else {
		delete(annotations, v1.EndpointsOverCapacity)
	}
	if current != nil && equality.Semantic.DeepEqual(current.Subsets, subsets) &&
		equality.Semantic.DeepEqual(current.Labels, wantLabels) && equality.Semantic.DeepEqual(current.Annotations, annotations) {
		return done()
	}
	if current == nil {
		ep := &v1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: wantLabels, Annotations: annotations}, Subsets: subsets}
		_, err := c.client.CoreV1().Endpoints(ns).Create(ctx, ep, metav1.CreateOptions{})
		switch {
		case err == nil, apierrors.HasStatusCause(err, v1.NamespaceTerminatingCause):
			return done()
		case apierrors.IsAlreadyExists(err):
			return retry(errStaleCache)
		}
		return retry(errorf("endpoints %s: create: %w", key, err))
	}
	ep := current.DeepCopy()
	ep.Labels = wantLabels
	ep.Annotations = annotations
	ep.Subsets = subsets
	if _, err := c.client.CoreV1().Endpoints(ns).Update(ctx, ep, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return retry(errStaleCache)
		}
		return retry(errorf("endpoints %s: update: %w", key, err))
	}
	return done()
}

// deleteOrphan deletes the Endpoints of a Service that no longer exists:
// always when this controller wrote them, and whoever wrote them when the
// Service was seen deleted (as Kubernetes does). Endpoints written before
// their Service is created are left alone.
func (c *EndpointsController) deleteOrphan(ctx context.Context, key string, ep *v1.Endpoints) error {
	c.mu.Lock()
	gone := c.gone[key]
	c.mu.Unlock()
	if ep == nil || (!gone && ep.Labels[endpointsManagedByLabel] != endpointsControllerName) {
		c.mu.Lock()
		delete(c.gone, key)
		c.mu.Unlock()
		return nil
	}
	var opts metav1.DeleteOptions
	if ep.UID != "" {
		opts.Preconditions = &metav1.Preconditions{UID: &ep.UID}
	}
	err := c.client.CoreV1().Endpoints(ep.Namespace).Delete(ctx, ep.Name, opts)
	if err != nil && !apierrors.IsNotFound(err) {
		return errorf("endpoints %s: delete: %w", key, err)
	}
	c.mu.Lock()
	delete(c.gone, key)
	c.mu.Unlock()
	return nil
}
