package node

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
)

// Well-known node labels, taints and lease settings.
const (
	labelHostname     = "kubernetes.io/hostname"
	labelOS           = "kubernetes.io/os"
	labelArch         = "kubernetes.io/arch"
	labelBetaOS       = "beta.kubernetes.io/os"
	labelBetaArch     = "beta.kubernetes.io/arch"
	labelControlPlane = "node-role.kubernetes.io/control-plane"
	labelExcludeLB    = "node.kubernetes.io/exclude-from-external-load-balancers"
	taintControlPlane = "node-role.kubernetes.io/control-plane"

	nodeLeaseNamespace   = "kube-node-lease"
	leaseDurationSeconds = 40
	maxPods              = 110
	kubeletPort          = 10250
	// evictionMemory is the kubelet's default memory.available hard
	// eviction threshold, which allocatable memory leaves out.
	evictionMemory = 100 << 20
)

// eventScheme knows the types events are recorded for.
var eventScheme = scheme.Scheme

// startEventSink sends recorded events to the API as core/v1 Events.
func startEventSink(b record.EventBroadcaster, client kubernetes.Interface) {
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
}

// nodeRef is the object node events are about; the kubelet uses the node
// name as its UID.
func (a *Agent) nodeRef() *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Node", Name: a.cfg.NodeName, UID: types.UID(a.cfg.NodeName)}
}

// defaultLabels are the labels the kubelet keeps on its Node.
func (a *Agent) defaultLabels() map[string]string {
	return map[string]string{
		labelHostname: a.cfg.NodeName,
		labelOS:       runtime.GOOS,
		labelArch:     runtime.GOARCH,
		labelBetaOS:   runtime.GOOS,
		labelBetaArch: runtime.GOARCH,
	}
}

// initialNode is the Node the agent registers: kubelet labels, kubeadm's
// role label and control-plane taint, and cfg.Labels.
func (a *Agent) initialNode() *corev1.Node {
	labels := a.defaultLabels()
	var taints []corev1.Taint
	if a.cfg.Role == RoleControlPlane {
		labels[labelControlPlane] = ""
		labels[labelExcludeLB] = ""
		taints = append(taints, corev1.Taint{Key: taintControlPlane, Effect: corev1.TaintEffectNoSchedule})
	}
	maps.Copy(labels, a.cfg.Labels)
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   a.cfg.NodeName,
			Labels: labels,
			Annotations: map[string]string{
				"node.alpha.kubernetes.io/ttl":                           "0",
				"volumes.kubernetes.io/controller-managed-attach-detach": "true",
			},
		},
		Spec: corev1.NodeSpec{Taints: taints},
	}
}

// registerNode creates the Node, or brings the kubelet-owned labels of an
// existing one up to date, retrying until it succeeds or ctx ends. Spec
// fields of an existing Node (podCIDR, taints, unschedulable) belong to
// others and are left alone.
func (a *Agent) registerNode(ctx context.Context) error {
	delay := 200 * time.Millisecond
	for {
		err := a.tryRegister(ctx)
		if err == nil {
			return nil
		}
		a.log.Error(err, "Unable to register node with API server")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 7*time.Second)
	}
}

// tryRegister is one registration attempt.
func (a *Agent) tryRegister(ctx context.Context) error {
	nodes := a.cfg.Client.CoreV1().Nodes()
	_, err := nodes.Create(ctx, a.initialNode(), metav1.CreateOptions{})
	if err == nil {
		a.log.Info("Successfully registered node")
		return nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return errorf("registering node %s: %w", a.cfg.NodeName, err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := nodes.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		changed := false
		if node.Labels == nil {
			node.Labels = map[string]string{}
		}
		for k, v := range a.defaultLabels() {
			if node.Labels[k] != v {
				node.Labels[k] = v
				changed = true
			}
		}
		if !changed {
			return nil
		}
		_, err = nodes.Update(ctx, node, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return errorf("updating node %s: %w", a.cfg.NodeName, err)
	}
	return nil
}

// nodeStatusLoop posts the node status every StatusInterval when it
// changed, and every StatusReportInterval regardless.
func (a *Agent) nodeStatusLoop(ctx context.Context, rs *runState) {
	info := readMachineInfo(a.cfg.NodeName, a.cfg.StateDir)
	var lastPost time.Time
	first := true
	for {
		force := a.now().Sub(lastPost) >= a.cfg.StatusReportInterval
		var posted bool
		// A conflict means someone else (the node IPAM controller setting
		// spec.podCIDR) wrote the node: read it again at once, as the
		// kubelet's tryUpdateNodeStatus does, instead of waiting a period.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var err error
			posted, err = a.syncNodeStatus(ctx, rs, info, force)
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Error(err, "Error updating node status, will retry")
		case posted:
			lastPost = a.now()
			if first {
				rs.recorder.Event(a.nodeRef(), corev1.EventTypeNormal, "NodeAllocatableEnforced", "Updated Node Allocatable limit across pods")
				first = false
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(a.cfg.StatusInterval):
		}
	}
}

// syncNodeStatus computes the node status and posts it when it changed or
// force is set. It reports whether it posted.
func (a *Agent) syncNodeStatus(ctx context.Context, rs *runState, info machineInfo, force bool) (bool, error) {
	nodes := a.cfg.Client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
	if err != nil {
		return false, errorf("getting node %s: %w", a.cfg.NodeName, err)
	}
	now := a.now()
	want := a.nodeStatus(node.Status, info, now)
	if !force && nodeStatusEqual(node.Status, want) {
		return false, nil
	}
	old := node.Status.DeepCopy()
	node.Status = want
	if _, err := nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return false, errorf("updating node %s status: %w", a.cfg.NodeName, err)
	}
	a.recordConditionEvents(rs, old.Conditions, want.Conditions)
	return true, nil
}

// nodeStatusEqual compares node statuses ignoring heartbeat times.
func nodeStatusEqual(a, b corev1.NodeStatus) bool {
	strip := func(s corev1.NodeStatus) corev1.NodeStatus {
		s = *s.DeepCopy()
		for i := range s.Conditions {
			s.Conditions[i].LastHeartbeatTime = metav1.Time{}
		}
		return s
	}
	return apiequality.Semantic.DeepEqual(strip(a), strip(b))
}

// nodeCondition is a condition the agent reports with its reason and
// message.
type nodeCondition struct {
	typ     corev1.NodeConditionType
	status  corev1.ConditionStatus
	reason  string
	message string
	event   string
}

// nodeConditions are the conditions the agent owns, in the kubelet's order.
var nodeConditions = []nodeCondition{
	{corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available", "NodeHasSufficientMemory"},
	{corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure", "NodeHasNoDiskPressure"},
	{corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available", "NodeHasSufficientPID"},
	{corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status", "NodeReady"},
}

// nodeStatus returns the status the agent wants for its Node, keeping the
// conditions others own and the transition times of unchanged conditions.
func (a *Agent) nodeStatus(old corev1.NodeStatus, info machineInfo, now time.Time) corev1.NodeStatus {
	s := *old.DeepCopy()
	s.Addresses = []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: a.cfg.NodeIP.String()},
		{Type: corev1.NodeHostName, Address: a.cfg.NodeName},
	}
	s.Capacity = corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(int64(info.cpus), resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(info.memoryBytes, resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(maxPods, resource.DecimalSI),
		corev1.ResourceEphemeralStorage: *resource.NewQuantity(info.diskBytes, resource.BinarySI),
		"hugepages-1Gi":                 *resource.NewQuantity(0, resource.DecimalSI),
		"hugepages-2Mi":                 *resource.NewQuantity(0, resource.DecimalSI),
	}
	alloc := s.Capacity.DeepCopy()
	mem := alloc[corev1.ResourceMemory]
	mem.Sub(*resource.NewQuantity(min(evictionMemory, info.memoryBytes), resource.BinarySI))
	alloc[corev1.ResourceMemory] = mem
	disk := alloc[corev1.ResourceEphemeralStorage]
	disk.Sub(*resource.NewQuantity(info.diskBytes/10, resource.BinarySI))
	alloc[corev1.ResourceEphemeralStorage] = disk
	s.Allocatable = alloc
	s.DaemonEndpoints = corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: kubeletPort}}
	s.NodeInfo = corev1.NodeSystemInfo{
		MachineID:               info.machineID,
		SystemUUID:              info.systemUUID,
		BootID:                  info.bootID,
		KernelVersion:           info.kernel,
		OSImage:                 info.osImage,
		ContainerRuntimeVersion: a.cfg.RuntimeVersion,
		KubeletVersion:          KubeletVersion,
		OperatingSystem:         runtime.GOOS,
		Architecture:            runtime.GOARCH,
	}
	heartbeat := metav1.NewTime(now).Rfc3339Copy()
	for _, want := range nodeConditions {
		c := corev1.NodeCondition{
			Type: want.typ, Status: want.status, Reason: want.reason, Message: want.message,
			LastHeartbeatTime: heartbeat, LastTransitionTime: heartbeat,
		}
		i := nodeConditionIndex(s.Conditions, want.typ)
		if i < 0 {
			s.Conditions = append(s.Conditions, c)
			continue
		}
		if s.Conditions[i].Status == want.status {
			c.LastTransitionTime = s.Conditions[i].LastTransitionTime
		}
		s.Conditions[i] = c
	}
	return s
}

// nodeConditionIndex finds a condition by type.
func nodeConditionIndex(conds []corev1.NodeCondition, t corev1.NodeConditionType) int {
	for i := range conds {
		if conds[i].Type == t {
			return i
		}
	}
	return -1
}

// recordConditionEvents emits the kubelet's "Node X status is now: Y"
// events for the conditions that changed.
func (a *Agent) recordConditionEvents(rs *runState, old, cur []corev1.NodeCondition) {
	for _, want := range nodeConditions {
		i := nodeConditionIndex(cur, want.typ)
		if i < 0 {
			continue
		}
		if j := nodeConditionIndex(old, want.typ); j >= 0 && old[j].Status == cur[i].Status {
			continue
		}
		event := want.event
		if want.typ == corev1.NodeReady && cur[i].Status != corev1.ConditionTrue {
			event = "NodeNotReady"
		}
		rs.recorder.Eventf(a.nodeRef(), corev1.EventTypeNormal, event, "Node %s status is now: %s", a.cfg.NodeName, event)
	}
}

// leaseLoop renews the node's Lease every HeartbeatInterval, retrying
// failures sooner.
func (a *Agent) leaseLoop(ctx context.Context) {
	var lease *coordinationv1.Lease
	retryDelay := 200 * time.Millisecond
	for {
		var err error
		lease, err = a.renewLease(ctx, lease)
		wait := a.cfg.HeartbeatInterval
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			a.log.Error(err, "Failed to update lease, will retry")
			wait = min(retryDelay, a.cfg.HeartbeatInterval)
			retryDelay = min(2*retryDelay, 7*time.Second)
		} else {
			retryDelay = 200 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// renewLease creates the Lease or renews the one last seen, and returns
// the stored Lease.
func (a *Agent) renewLease(ctx context.Context, lease *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	leases := a.cfg.Client.CoordinationV1().Leases(nodeLeaseNamespace)
	if lease == nil {
		got, err := leases.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			fresh, err := leases.Create(ctx, a.newLease(ctx), metav1.CreateOptions{})
			if err != nil {
				return nil, errorf("creating lease: %w", err)
			}
			return fresh, nil
		case err != nil:
			return nil, errorf("getting lease: %w", err)
		}
		lease = got
	}
	l := lease.DeepCopy()
	a.fillLease(l)
	updated, err := leases.Update(ctx, l, metav1.UpdateOptions{})
	if err != nil {
		// A conflict or a deleted Lease: start again from the API.
		return nil, errorf("renewing lease: %w", err)
	}
	return updated, nil
}

// newLease is the node's Lease, owned by its Node so that deleting the Node
// deletes it.
func (a *Agent) newLease(ctx context.Context) *coordinationv1.Lease {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: a.cfg.NodeName, Namespace: nodeLeaseNamespace}}
	if node, err := a.cfg.Client.CoreV1().Nodes().Get(ctx, a.cfg.NodeName, metav1.GetOptions{}); err == nil {
		l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}}
	}
	a.fillLease(l)
	return l
}

// fillLease sets the holder, duration and renew time.
func (a *Agent) fillLease(l *coordinationv1.Lease) {
	holder := a.cfg.NodeName
	duration := int32(leaseDurationSeconds)
	renew := metav1.NewMicroTime(a.now())
	l.Spec.HolderIdentity = &holder
	l.Spec.LeaseDurationSeconds = &duration
	l.Spec.RenewTime = &renew
}

// machineInfo is what the node status reports about the machine.
type machineInfo struct {
	cpus        int
	memoryBytes int64
	diskBytes   int64
	osImage     string
	kernel      string
	machineID   string
	systemUUID  string
	bootID      string
}

// readMachineInfo reads the machine's resources and identity. Every kin
// node shares the machine, so machine ID and system UUID are derived from
// the machine's ID and the node name to tell the nodes apart.
func readMachineInfo(nodeName, stateDir string) machineInfo {
	info := machineInfo{cpus: runtime.NumCPU(), osImage: "Linux"}
	info.memoryBytes = memTotal()
	var st syscall.Statfs_t
	if err := syscall.Statfs(stateDir, &st); err == nil {
		info.diskBytes = int64(st.Blocks) * st.Bsize
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		if v := osReleaseField(string(b), "PRETTY_NAME"); v != "" {
			info.osImage = v
		}
	}
	info.kernel = readTrimmed("/proc/sys/kernel/osrelease")
	info.bootID = readTrimmed("/proc/sys/kernel/random/boot_id")
	sum := sha256.Sum256([]byte(readTrimmed("/etc/machine-id") + "/" + nodeName))
	h := hex.EncodeToString(sum[:])
	info.machineID = h[:32]
	info.systemUUID = fmt.Sprintf("%s-%s-%s-%s-%s", h[32:40], h[40:44], h[44:48], h[48:52], h[52:64])
	return info
}

// memTotal returns MemTotal from /proc/meminfo in bytes.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// osReleaseField returns a field of an os-release file, unquoted.
func osReleaseField(content, key string) string {
	for _, line := range strings.Split(content, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || k != key {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil {
			return u
		}
		return strings.Trim(v, `"'`)
	}
	return ""
}

// readTrimmed reads a small file, or returns "".
func readTrimmed(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
