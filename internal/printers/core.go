package printers

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

const (
	// labelNodeRolePrefix is the prefix of node-role.kubernetes.io/<role> labels.
	labelNodeRolePrefix = "node-role.kubernetes.io/"
	// labelNodeRole is the legacy kubernetes.io/role=<role> label.
	labelNodeRole = "kubernetes.io/role"
	// nodeUnreachablePodReason is the pod status reason the node lifecycle
	// controller sets on pods of unreachable nodes.
	nodeUnreachablePodReason = "NodeLost"
	// maxListed is how many endpoints a cell lists before "+ N more...".
	maxListed = 3
)

// corePrinters returns the printers of the core ("") API group.
func corePrinters() map[string]Printer {
	podStatusDoc := corev1.PodStatus{}.SwaggerDoc()
	podSpecDoc := corev1.PodSpec{}.SwaggerDoc()
	serviceSpecDoc := corev1.ServiceSpec{}.SwaggerDoc()
	nodeInfoDoc := corev1.NodeSystemInfo{}.SwaggerDoc()
	nodeStatusDoc := corev1.NodeStatus{}.SwaggerDoc()
	secretDoc := corev1.Secret{}.SwaggerDoc()

	return map[string]Printer{
		"pods": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Ready", Type: "string", Description: "The aggregate readiness state of this pod for accepting traffic."},
				{Name: "Status", Type: "string", Description: "The aggregate status of the containers in this pod."},
				{Name: "Restarts", Type: "string", Description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."},
				ageColumn,
				{Name: "IP", Type: "string", Priority: 1, Description: podStatusDoc["podIP"]},
				{Name: "Node", Type: "string", Priority: 1, Description: podSpecDoc["nodeName"]},
				{Name: "Nominated Node", Type: "string", Priority: 1, Description: podStatusDoc["nominatedNodeName"]},
				{Name: "Readiness Gates", Type: "string", Priority: 1, Description: podSpecDoc["readinessGates"]},
			},
			Row:        typed(podRow),
			Conditions: podConditions,
		},
		"nodes": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Status", Type: "string", Description: "The status of the node"},
				{Name: "Roles", Type: "string", Description: "The roles of the node"},
				ageColumn,
				{Name: "Version", Type: "string", Description: nodeInfoDoc["kubeletVersion"]},
				{Name: "Internal-IP", Type: "string", Priority: 1, Description: nodeStatusDoc["addresses"]},
				{Name: "External-IP", Type: "string", Priority: 1, Description: nodeStatusDoc["addresses"]},
				{Name: "OS-Image", Type: "string", Priority: 1, Description: nodeInfoDoc["osImage"]},
				{Name: "Kernel-Version", Type: "string", Priority: 1, Description: nodeInfoDoc["kernelVersion"]},
				{Name: "Container-Runtime", Type: "string", Priority: 1, Description: nodeInfoDoc["containerRuntimeVersion"]},
			},
			Row: typed(nodeRow),
		},
		"namespaces": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Status", Type: "string", Description: "The status of the namespace"},
				ageColumn,
			},
			Row: typed(func(ns *corev1.Namespace, now time.Time) []interface{} {
				return []interface{}{ns.Name, string(ns.Status.Phase), age(ns.CreationTimestamp, now)}
			}),
		},
		"services": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Type", Type: "string", Description: serviceSpecDoc["type"]},
				{Name: "Cluster-IP", Type: "string", Description: serviceSpecDoc["clusterIP"]},
				{Name: "External-IP", Type: "string", Description: serviceSpecDoc["externalIPs"]},
				{Name: "Port(s)", Type: "string", Description: serviceSpecDoc["ports"]},
				ageColumn,
				{Name: "Selector", Type: "string", Priority: 1, Description: serviceSpecDoc["selector"]},
			},
			Row: typed(serviceRow),
		},
		"endpoints": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Endpoints", Type: "string", Description: corev1.Endpoints{}.SwaggerDoc()["subsets"]},
				ageColumn,
			},
			Row: typed(func(ep *corev1.Endpoints, now time.Time) []interface{} {
				return []interface{}{ep.Name, formatEndpoints(ep), age(ep.CreationTimestamp, now)}
			}),
		},
		"configmaps": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Data", Type: "string", Description: corev1.ConfigMap{}.SwaggerDoc()["data"]},
				ageColumn,
			},
			Row: typed(func(cm *corev1.ConfigMap, now time.Time) []interface{} {
				return []interface{}{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), age(cm.CreationTimestamp, now)}
			}),
		},
		"secrets": {
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Type", Type: "string", Description: secretDoc["type"]},
				{Name: "Data", Type: "string", Description: secretDoc["data"]},
				ageColumn,
			},
			Row: typed(func(s *corev1.Secret, now time.Time) []interface{} {
				return []interface{}{s.Name, string(s.Type), int64(secretDataCount(s)), age(s.CreationTimestamp, now)}
			}),
		},
		// Since Kubernetes 1.33 service accounts no longer print a SECRETS
		// column.
		"serviceaccounts": {
			Columns: []metav1.TableColumnDefinition{nameColumn, ageColumn},
			Row: typed(func(sa *corev1.ServiceAccount, now time.Time) []interface{} {
				return []interface{}{sa.Name, age(sa.CreationTimestamp, now)}
			}),
		},
		"events": {
			Columns: eventColumns(),
			Row:     typed(eventRow),
		},
	}
}

// podRow computes a pod's cells the way kube-apiserver's printPod does:
// READY counts ready containers (and started restartable init containers),
// STATUS is the most telling reason from the phase, the init containers and
// the containers, and RESTARTS adds "(<age> ago)" of the last restart.
func podRow(pod *corev1.Pod, now time.Time) []interface{} {
	restarts := 0
	restartableInitRestarts := 0
	totalContainers := len(pod.Spec.Containers)
	readyContainers := 0
	var lastRestart, lastRestartableInitRestart metav1.Time

	reason := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			reason = corev1.PodReasonSchedulingGated
		}
	}

	initContainers := make(map[string]*corev1.Container, len(pod.Spec.InitContainers))
	for i := range pod.Spec.InitContainers {
		initContainers[pod.Spec.InitContainers[i].Name] = &pod.Spec.InitContainers[i]
		if isRestartableInitContainer(&pod.Spec.InitContainers[i]) {
			totalContainers++
		}
	}

	initializing := false
	for i, cs := range pod.Status.InitContainerStatuses {
		restarts += int(cs.RestartCount)
		if t := cs.LastTerminationState.Terminated; t != nil && lastRestart.Before(&t.FinishedAt) {
			lastRestart = t.FinishedAt
		}
		restartable := isRestartableInitContainer(initContainers[cs.Name])
		if restartable {
			restartableInitRestarts += int(cs.RestartCount)
			if t := cs.LastTerminationState.Terminated; t != nil && lastRestartableInitRestart.Before(&t.FinishedAt) {
				lastRestartableInitRestart = t.FinishedAt
			}
		}
		switch {
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0:
			continue
		case restartable && cs.Started != nil && *cs.Started:
			if cs.Ready {
				readyContainers++
			}
			continue
		case cs.State.Terminated != nil:
			// The init container failed.
			switch {
			case cs.State.Terminated.Reason != "":
				reason = "Init:" + cs.State.Terminated.Reason
			case cs.State.Terminated.Signal != 0:
				reason = fmt.Sprintf("Init:Signal:%d", cs.State.Terminated.Signal)
			default:
				reason = fmt.Sprintf("Init:ExitCode:%d", cs.State.Terminated.ExitCode)
			}
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + cs.State.Waiting.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break
	}

	if !initializing || hasPodCondition(pod.Status.Conditions, corev1.PodInitialized) {
		restarts = restartableInitRestarts
		lastRestart = lastRestartableInitRestart
		hasRunning := false
		errorReason := ""
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			cs := pod.Status.ContainerStatuses[i]
			restarts += int(cs.RestartCount)
			if t := cs.LastTerminationState.Terminated; t != nil && lastRestart.Before(&t.FinishedAt) {
				lastRestart = t.FinishedAt
			}
			switch {
			case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
				reason = cs.State.Waiting.Reason
			case cs.State.Terminated != nil:
				switch {
				case cs.State.Terminated.Reason != "":
					reason = cs.State.Terminated.Reason
				case cs.State.Terminated.Signal != 0:
					reason = fmt.Sprintf("Signal:%d", cs.State.Terminated.Signal)
				default:
					reason = fmt.Sprintf("ExitCode:%d", cs.State.Terminated.ExitCode)
				}
				if cs.State.Terminated.ExitCode != 0 {
					errorReason = reason
				}
			case cs.Ready && cs.State.Running != nil:
				hasRunning = true
				readyContainers++
			}
		}
		// A pod with a container still running is not "Completed".
		if reason == "Completed" {
			switch {
			case hasRunning && hasPodCondition(pod.Status.Conditions, corev1.PodReady):
				reason = "Running"
			case errorReason != "":
				reason = errorReason
			case hasRunning:
				reason = "NotReady"
			}
		}
	}

	terminal := pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
	switch {
	case pod.DeletionTimestamp != nil && pod.Status.Reason == nodeUnreachablePodReason:
		reason = "Unknown"
	case pod.DeletionTimestamp != nil && !terminal:
		reason = "Terminating"
	}

	restartsText := strconv.Itoa(restarts)
	if restarts != 0 && !lastRestart.IsZero() {
		restartsText = fmt.Sprintf("%d (%s ago)", restarts, age(lastRestart, now))
	}

	podIP := pod.Status.PodIP
	if podIP == "" && len(pod.Status.PodIPs) > 0 {
		podIP = pod.Status.PodIPs[0].IP
	}
	readinessGates := "<none>"
	if len(pod.Spec.ReadinessGates) > 0 {
		trueGates := 0
		for _, gate := range pod.Spec.ReadinessGates {
			for _, c := range pod.Status.Conditions {
				if c.Type == gate.ConditionType {
					if c.Status == corev1.ConditionTrue {
						trueGates++
					}
					break
				}
			}
		}
		readinessGates = fmt.Sprintf("%d/%d", trueGates, len(pod.Spec.ReadinessGates))
	}

	return []interface{}{
		pod.Name,
		fmt.Sprintf("%d/%d", readyContainers, totalContainers),
		reason,
		restartsText,
		age(pod.CreationTimestamp, now),
		orNone(podIP),
		orNone(pod.Spec.NodeName),
		orNone(pod.Status.NominatedNodeName),
		readinessGates,
	}
}

// podConditions returns the Completed row condition kube-apiserver attaches
// to pods that succeeded or failed.
func podConditions(obj runtime.Object) []metav1.TableRowCondition {
	pod, err := asTyped[corev1.Pod](obj)
	if err != nil {
		return nil
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		return []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(corev1.PodSucceeded), Message: "The pod has completed successfully."}}
	case corev1.PodFailed:
		return []metav1.TableRowCondition{{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: string(corev1.PodFailed), Message: "The pod failed."}}
	}
	return nil
}

// isRestartableInitContainer reports whether c is a sidecar: an init
// container with restartPolicy Always.
func isRestartableInitContainer(c *corev1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// hasPodCondition reports whether the first condition of type t is True.
func hasPodCondition(conditions []corev1.PodCondition, t corev1.PodConditionType) bool {
	for _, c := range conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// nodeRow computes a node's cells: STATUS from the Ready condition plus
// SchedulingDisabled when cordoned, ROLES from the node-role labels.
func nodeRow(node *corev1.Node, now time.Time) []interface{} {
	var status []string
	for _, c := range node.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		// As kube-apiserver does, the last Ready condition wins.
		if c.Status == corev1.ConditionTrue {
			status = []string{string(c.Type)}
		} else {
			status = []string{"Not" + string(c.Type)}
		}
	}
	if len(status) == 0 {
		status = []string{"Unknown"}
	}
	if node.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}

	roles := strings.Join(nodeRoles(node), ",")
	if roles == "" {
		roles = "<none>"
	}

	info := node.Status.NodeInfo
	kernel := unknownIfEmpty(info.KernelVersion)
	if info.Architecture != "" {
		kernel += " (" + info.Architecture + ")"
	}
	return []interface{}{
		node.Name,
		strings.Join(status, ","),
		roles,
		age(node.CreationTimestamp, now),
		info.KubeletVersion,
		nodeAddress(node, corev1.NodeInternalIP),
		nodeAddress(node, corev1.NodeExternalIP),
		unknownIfEmpty(info.OSImage),
		kernel,
		unknownIfEmpty(info.ContainerRuntimeVersion),
	}
}

// nodeRoles returns the sorted roles named by node-role.kubernetes.io/<role>
// labels and the kubernetes.io/role=<role> label.
func nodeRoles(node *corev1.Node) []string {
	set := make(map[string]bool)
	for k, v := range node.Labels {
		switch {
		case strings.HasPrefix(k, labelNodeRolePrefix):
			if role := strings.TrimPrefix(k, labelNodeRolePrefix); role != "" {
				set[role] = true
			}
		case k == labelNodeRole && v != "":
			set[v] = true
		}
	}
	return sortedKeys(set)
}

// nodeAddress returns the node's first address of type t, or "<none>".
func nodeAddress(node *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range node.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

// serviceRow computes a service's cells.
func serviceRow(svc *corev1.Service, now time.Time) []interface{} {
	clusterIP := "<none>"
	switch {
	case len(svc.Spec.ClusterIPs) > 0:
		clusterIP = svc.Spec.ClusterIPs[0]
	case svc.Spec.ClusterIP != "":
		clusterIP = svc.Spec.ClusterIP
	}
	ports := servicePorts(svc.Spec.Ports)
	if ports == "" {
		ports = "<none>"
	}
	return []interface{}{
		svc.Name,
		string(svc.Spec.Type),
		clusterIP,
		serviceExternalIP(svc),
		ports,
		age(svc.CreationTimestamp, now),
		labels.FormatLabels(svc.Spec.Selector),
	}
}

// serviceExternalIP is the EXTERNAL-IP cell: external IPs for ClusterIP and
// NodePort services, the load balancer's ingress addresses (and external IPs)
// or "<pending>" for LoadBalancer services, the external name for
// ExternalName services.
func serviceExternalIP(svc *corev1.Service) string {
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(svc.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case corev1.ServiceTypeLoadBalancer:
		var ingress []string
		for _, in := range svc.Status.LoadBalancer.Ingress {
			ingress = append(ingress, firstNonEmpty(in.IP, in.Hostname))
		}
		addresses := sortedUnique(ingress)
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(append(addresses, svc.Spec.ExternalIPs...), ",")
		}
		if len(addresses) > 0 {
			return strings.Join(addresses, ",")
		}
		return "<pending>"
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}

// sortedUnique returns the non-empty strings of list, sorted and without
// duplicates. kube-apiserver lists load balancer ingress points this way, and
// because its tables are always built wide it does not shorten the list.
func sortedUnique(list []string) []string {
	set := make(map[string]bool, len(list))
	for _, s := range list {
		if s != "" {
			set[s] = true
		}
	}
	return sortedKeys(set)
}

// servicePorts is the PORT(S) cell: "80/TCP", or "80:30080/TCP" with a node
// port, joined by ",".
func servicePorts(ports []corev1.ServicePort) string {
	pieces := make([]string, len(ports))
	for i, p := range ports {
		if p.NodePort > 0 {
			pieces[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		} else {
			pieces[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		}
	}
	return strings.Join(pieces, ",")
}

// formatEndpoints is the ENDPOINTS cell: up to three "ip:port" (or "ip" for
// subsets without ports) followed by "+ N more...", or "<none>".
func formatEndpoints(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return "<none>"
	}
	var list []string
	more := false
	count := 0
	add := func(s string) {
		if len(list) == maxListed {
			more = true
			return
		}
		list = append(list, s)
	}
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 {
			// Headless services may have no ports.
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				add(a.IP)
			}
			continue
		}
		for _, port := range ss.Ports {
			count += len(ss.Addresses)
			for _, a := range ss.Addresses {
				add(net.JoinHostPort(a.IP, strconv.Itoa(int(port.Port))))
			}
		}
	}
	ret := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, count-maxListed)
	}
	return ret
}

// secretDataCount counts the secret's keys, including stringData keys that
// the API server would have merged into data.
func secretDataCount(s *corev1.Secret) int {
	n := len(s.Data)
	for k := range s.StringData {
		if _, ok := s.Data[k]; !ok {
			n++
		}
	}
	return n
}

// eventColumns are the columns of core and events.k8s.io events: LAST SEEN
// TYPE REASON OBJECT MESSAGE and, wide, SUBOBJECT SOURCE FIRST SEEN COUNT
// NAME, interleaved as kube-apiserver orders them.
func eventColumns() []metav1.TableColumnDefinition {
	eventDoc := corev1.Event{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		{Name: "Last Seen", Type: "string", Description: eventDoc["lastTimestamp"]},
		{Name: "Type", Type: "string", Description: eventDoc["type"]},
		{Name: "Reason", Type: "string", Description: eventDoc["reason"]},
		{Name: "Object", Type: "string", Description: eventDoc["involvedObject"]},
		{Name: "Subobject", Type: "string", Priority: 1, Description: corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]},
		{Name: "Source", Type: "string", Priority: 1, Description: eventDoc["source"]},
		{Name: "Message", Type: "string", Description: eventDoc["message"]},
		{Name: "First Seen", Type: "string", Priority: 1, Description: eventDoc["firstTimestamp"]},
		{Name: "Count", Type: "string", Priority: 1, Description: eventDoc["count"]},
		{Name: "Name", Type: "string", Priority: 1, Format: "name", Description: objectMetaDoc["name"]},
	}
}

// eventRow computes an event's cells.
func eventRow(e *corev1.Event, now time.Time) []interface{} {
	firstSeen := age(e.FirstTimestamp, now)
	if e.FirstTimestamp.IsZero() {
		firstSeen = microAge(e.EventTime, now)
	}
	lastSeen := age(e.LastTimestamp, now)
	if e.LastTimestamp.IsZero() {
		lastSeen = firstSeen
	}
	count := e.Count
	if e.Series != nil {
		lastSeen = microAge(e.Series.LastObservedTime, now)
		count = e.Series.Count
	} else if count == 0 {
		// Singleton events of the events.k8s.io API have no count.
		count = 1
	}
	object := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		object += "/" + e.InvolvedObject.Name
	}
	return []interface{}{
		lastSeen,
		e.Type,
		e.Reason,
		object,
		e.InvolvedObject.FieldPath,
		eventSource(e),
		strings.TrimSpace(e.Message),
		firstSeen,
		int64(count),
		e.Name,
	}
}

// eventSource is the SOURCE cell: "component, host", falling back to the
// reporting controller and instance.
func eventSource(e *corev1.Event) string {
	component := firstNonEmpty(e.Source.Component, e.ReportingController)
	host := firstNonEmpty(e.Source.Host, e.ReportingInstance)
	if host == "" {
		return component
	}
	return component + ", " + host
}

// firstNonEmpty returns the first non-empty string of ss.
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// orNone returns s, or "<none>" when it is empty.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// unknownIfEmpty returns s, or "<unknown>" when it is empty.
func unknownIfEmpty(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

// sortedKeys returns the keys of set in sorted order.
func sortedKeys(set map[string]bool) []string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
