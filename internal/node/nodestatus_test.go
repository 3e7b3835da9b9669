package node

import (
	"context"
	"runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestNodeRegistersWithLabelsTaintAndConditions(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.NodeName = "cp-k8s"
		c.Role = RoleControlPlane
		c.Labels = map[string]string{"topology.kubernetes.io/zone": "lab"}
	})
	ctx := context.Background()
	var node *corev1.Node
	waitFor(t, "node Ready", func() bool {
		n, err := h.client.CoreV1().Nodes().Get(ctx, "cp-k8s", metav1.GetOptions{})
		if err != nil || nodeConditionIndex(n.Status.Conditions, corev1.NodeReady) < 0 {
			return false
		}
		node = n
		return true
	})
	for k, v := range map[string]string{
		"kubernetes.io/hostname":                "cp-k8s",
		"kubernetes.io/os":                      "linux",
		"kubernetes.io/arch":                    runtime.GOARCH,
		"node-role.kubernetes.io/control-plane": "",
		"topology.kubernetes.io/zone":           "lab",
	} {
		if got, ok := node.Labels[k]; !ok || got != v {
			t.Errorf("label %s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	if len(node.Spec.Taints) != 1 || node.Spec.Taints[0].Key != "node-role.kubernetes.io/control-plane" ||
		node.Spec.Taints[0].Effect != corev1.TaintEffectNoSchedule {
		t.Errorf("taints = %v, want the control-plane NoSchedule taint", node.Spec.Taints)
	}
	want := map[corev1.NodeConditionType]struct {
		status corev1.ConditionStatus
		reason string
	}{
		corev1.NodeMemoryPressure: {corev1.ConditionFalse, "KubeletHasSufficientMemory"},
		corev1.NodeDiskPressure:   {corev1.ConditionFalse, "KubeletHasNoDiskPressure"},
		corev1.NodePIDPressure:    {corev1.ConditionFalse, "KubeletHasSufficientPID"},
		corev1.NodeReady:          {corev1.ConditionTrue, "KubeletReady"},
	}
	for _, c := range node.Status.Conditions {
		w, ok := want[c.Type]
		if !ok {
			continue
		}
		if c.Status != w.status || c.Reason != w.reason || c.LastHeartbeatTime.IsZero() || c.LastTransitionTime.IsZero() {
			t.Errorf("condition %s = %+v, want %s %s with times", c.Type, c, w.status, w.reason)
		}
		delete(want, c.Type)
	}
	if len(want) > 0 {
		t.Errorf("missing conditions %v", want)
	}
	if i := nodeConditionIndex(node.Status.Conditions, corev1.NodeReady); node.Status.Conditions[i].Message != "kubelet is posting ready status" {
		t.Errorf("Ready message = %q", node.Status.Conditions[i].Message)
	}
	if got := node.Status.Addresses; len(got) != 2 || got[0] != (corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: "192.168.1.101"}) ||
		got[1] != (corev1.NodeAddress{Type: corev1.NodeHostName, Address: "cp-k8s"}) {
		t.Errorf("addresses = %v", got)
	}
	info := node.Status.NodeInfo
	if info.KubeletVersion != "v1.37.2" || info.ContainerRuntimeVersion != DefaultRuntimeVersion ||
		info.OperatingSystem != "linux" || info.Architecture != runtime.GOARCH || info.KernelVersion == "" || info.OSImage == "" {
		t.Errorf("nodeInfo = %+v", info)
	}
	pods := node.Status.Capacity[corev1.ResourcePods]
	cpu := node.Status.Capacity[corev1.ResourceCPU]
	if pods.Value() != 110 || cpu.Value() != int64(runtime.NumCPU()) {
		t.Errorf("capacity = %v", node.Status.Capacity)
	}
	mem, alloc := node.Status.Capacity[corev1.ResourceMemory], node.Status.Allocatable[corev1.ResourceMemory]
	if mem.Value() <= 0 || mem.Value()-alloc.Value() != 100<<20 {
		t.Errorf("memory capacity %s allocatable %s", mem.String(), alloc.String())
	}

	// The lease is created and renewed.
	var first metav1.MicroTime
	waitFor(t, "lease", func() bool {
		l, err := h.client.CoordinationV1().Leases("kube-node-lease").Get(ctx, "cp-k8s", metav1.GetOptions{})
		if err != nil || l.Spec.RenewTime == nil {
			return false
		}
		if *l.Spec.HolderIdentity != "cp-k8s" || *l.Spec.LeaseDurationSeconds != 40 {
			t.Fatalf("lease spec = %+v", l.Spec)
		}
		first = *l.Spec.RenewTime
		return true
	})
	waitFor(t, "lease renewal", func() bool {
		l, err := h.client.CoordinationV1().Leases("kube-node-lease").Get(ctx, "cp-k8s", metav1.GetOptions{})
		return err == nil && l.Spec.RenewTime.After(first.Time)
	})
	h.waitEvent("Starting: Starting kubelet.")
	h.waitEvent("NodeReady: Node cp-k8s status is now: NodeReady")
}

func TestExistingNodeKeepsSpecOthersOwn(t *testing.T) {
	existing := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: testNode, Labels: map[string]string{"custom": "yes"}},
		Spec:       corev1.NodeSpec{PodCIDR: "172.16.1.0/24", Unschedulable: true},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
			{Type: "NetworkUnavailable", Status: corev1.ConditionFalse, Reason: "CalicoIsUp"},
			{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown"},
		}},
	}
	h := newHarness(t)
	// The harness has already started; recreate the node as if it existed
	// before and let a second agent reconcile it.
	h.stop()
	ctx := context.Background()
	_ = h.client.CoreV1().Nodes().Delete(ctx, testNode, metav1.DeleteOptions{})
	if _, err := h.client.CoreV1().Nodes().Create(ctx, existing, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.start()
	var node *corev1.Node
	waitFor(t, "node Ready again", func() bool {
		n, err := h.client.CoreV1().Nodes().Get(ctx, testNode, metav1.GetOptions{})
		if err != nil {
			return false
		}
		i := nodeConditionIndex(n.Status.Conditions, corev1.NodeReady)
		node = n
		return i >= 0 && n.Status.Conditions[i].Status == corev1.ConditionTrue
	})
	if node.Spec.PodCIDR != "172.16.1.0/24" || !node.Spec.Unschedulable || len(node.Spec.Taints) != 0 {
		t.Errorf("spec changed: %+v", node.Spec)
	}
	if node.Labels["custom"] != "yes" || node.Labels["kubernetes.io/hostname"] != testNode {
		t.Errorf("labels = %v", node.Labels)
	}
	if node.Status.Conditions[0].Type != "NetworkUnavailable" || node.Status.Conditions[0].Reason != "CalicoIsUp" {
		t.Errorf("conditions others own were not kept: %+v", node.Status.Conditions)
	}
}

func TestNodeStatusUnchangedIsNotPosted(t *testing.T) {
	a := &Agent{cfg: Config{NodeName: "n", NodeIP: []byte{10, 0, 0, 1}, RuntimeVersion: "kin://x"}}
	info := machineInfo{cpus: 2, memoryBytes: 4 << 30, diskBytes: 10 << 30, osImage: "Debian", kernel: "6.1"}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s1 := a.nodeStatus(corev1.NodeStatus{}, info, t0)
	s2 := a.nodeStatus(s1, info, t0.Add(time.Minute))
	if !nodeStatusEqual(s1, s2) {
		t.Errorf("statuses differing only in heartbeats compare unequal")
	}
	i := nodeConditionIndex(s2.Conditions, corev1.NodeReady)
	if !s2.Conditions[i].LastTransitionTime.Time.Equal(t0) || !s2.Conditions[i].LastHeartbeatTime.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("Ready times = %+v", s2.Conditions[i])
	}
	if got := osReleaseField("NAME=x\nPRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\n", "PRETTY_NAME"); got != "Debian GNU/Linux 13 (trixie)" {
		t.Errorf("PRETTY_NAME = %q", got)
	}
}
