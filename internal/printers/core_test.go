package printers

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

var (
	podsGR      = schema.GroupResource{Resource: "pods"}
	nodesGR     = schema.GroupResource{Resource: "nodes"}
	servicesGR  = schema.GroupResource{Resource: "services"}
	endpointsGR = schema.GroupResource{Resource: "endpoints"}
	eventsGR    = schema.GroupResource{Resource: "events"}
)

// running is a running container status.
func running(name string, ready bool, restarts int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{
		Name:         name,
		Ready:        ready,
		RestartCount: restarts,
		State:        corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(time.Hour)}},
	}
}

// waiting is a waiting container status.
func waiting(name, reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

// terminated is a terminated container status.
func terminated(name, reason string, exitCode, signal int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: exitCode, Signal: signal}}}
}

// pod builds a pod with the named containers and the given status.
func pod(containers []string, status corev1.PodStatus) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: objectMeta("web", "default", 5*time.Minute), Status: status}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: "nginx"})
	}
	return p
}

func TestPodColumns(t *testing.T) {
	p, _ := For(podsGR)
	want := []string{"Name", "Ready", "Status", "Restarts", "Age", "IP*", "Node*", "Nominated Node*", "Readiness Gates*"}
	if got := header(p.Columns); !slices.Equal(got, want) {
		t.Errorf("columns %q, want %q", got, want)
	}
	if p.Columns[3].Type != "string" || p.Columns[0].Format != "name" {
		t.Errorf("RESTARTS type %q, NAME format %q; want string, name", p.Columns[3].Type, p.Columns[0].Format)
	}
}

func TestPodRow(t *testing.T) {
	restarted := running("sidecar", false, 3)
	restarted.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{FinishedAt: ago(10 * time.Minute)}

	p := pod([]string{"app", "sidecar"}, corev1.PodStatus{
		Phase:             corev1.PodRunning,
		PodIP:             "172.16.221.164",
		PodIPs:            []corev1.PodIP{{IP: "172.16.221.164"}},
		ContainerStatuses: []corev1.ContainerStatus{running("app", true, 0), restarted},
	})
	p.Spec.NodeName = "w1-k8s"

	assertCells(t, podsGR, row(t, podsGR, p), []interface{}{
		"web", "1/2", "Running", "3 (10m ago)", "5m", "172.16.221.164", "w1-k8s", "<none>", "<none>",
	})
}

func TestPodStatus(t *testing.T) {
	sidecar := corev1.ContainerRestartPolicyAlways
	initStatus := func(i int, reason string) corev1.PodStatus {
		s := corev1.PodStatus{Phase: corev1.PodPending}
		for k := range 2 {
			switch {
			case k < i:
				s.InitContainerStatuses = append(s.InitContainerStatuses, terminated("init", "Completed", 0, 0))
			case k == i && reason != "":
				s.InitContainerStatuses = append(s.InitContainerStatuses, waiting("init", reason))
			default:
				s.InitContainerStatuses = append(s.InitContainerStatuses, waiting("init", "PodInitializing"))
			}
		}
		return s
	}
	withInit := func(p *corev1.Pod) *corev1.Pod {
		p.Spec.InitContainers = []corev1.Container{{Name: "init"}, {Name: "init"}}
		return p
	}
	deleted := func(p *corev1.Pod) *corev1.Pod {
		p.DeletionTimestamp = ptr.To(ago(time.Second))
		return p
	}

	tests := []struct {
		name   string
		pod    *corev1.Pod
		ready  string
		status string
	}{
		{"pending unscheduled", pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodPending}), "0/1", "Pending"},
		{"scheduling gated", pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated},
		}}), "0/1", "SchedulingGated"},
		{"container creating", pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{waiting("app", "ContainerCreating")}}), "0/1", "ContainerCreating"},
		{"crash loop", pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{waiting("app", "CrashLoopBackOff")}}), "0/1", "CrashLoopBackOff"},
		{"all ready", pod([]string{"a", "b"}, corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0), running("b", true, 0)}}), "2/2", "Running"},
		{"completed", pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodSucceeded,
			ContainerStatuses: []corev1.ContainerStatus{terminated("app", "Completed", 0, 0)}}), "0/1", "Completed"},
		{"error", pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodFailed,
			ContainerStatuses: []corev1.ContainerStatus{terminated("app", "Error", 1, 0)}}), "0/1", "Error"},
		{"killed by signal", pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodFailed,
			ContainerStatuses: []corev1.ContainerStatus{terminated("app", "", 137, 9)}}), "0/1", "Signal:9"},
		{"exit code", pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodFailed,
			ContainerStatuses: []corev1.ContainerStatus{terminated("app", "", 2, 0)}}), "0/1", "ExitCode:2"},
		{"completed but one running and ready", pod([]string{"a", "b"}, corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
			ContainerStatuses: []corev1.ContainerStatus{terminated("a", "Completed", 0, 0), running("b", true, 0)}}), "1/2", "Running"},
		{"completed but one running not ready", pod([]string{"b", "a"}, corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{running("b", true, 0), terminated("a", "Completed", 0, 0)}}), "1/2", "NotReady"},
		{"completed but another failed", pod([]string{"b", "a"}, corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{terminated("b", "Error", 1, 0), terminated("a", "Completed", 0, 0)}}), "0/2", "Error"},
		{"terminating", deleted(pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodRunning,
			ContainerStatuses: []corev1.ContainerStatus{running("app", true, 0)}})), "1/1", "Terminating"},
		{"deleted after success stays completed", deleted(pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodSucceeded,
			ContainerStatuses: []corev1.ContainerStatus{terminated("app", "Completed", 0, 0)}})), "0/1", "Completed"},
		{"node lost", deleted(pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost"})), "0/1", "Unknown"},
		{"evicted", pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}), "0/1", "Evicted"},
		{"init first running", withInit(pod([]string{"app"}, initStatus(0, ""))), "0/1", "Init:0/2"},
		{"init second running", withInit(pod([]string{"app"}, initStatus(1, ""))), "0/1", "Init:1/2"},
		{"init image pull", withInit(pod([]string{"app"}, initStatus(0, "ImagePullBackOff"))), "0/1", "Init:ImagePullBackOff"},
		{"init failed", withInit(pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{terminated("init", "Error", 1, 0)}})), "0/1", "Init:Error"},
		{"init exit code", withInit(pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{terminated("init", "", 3, 0)}})), "0/1", "Init:ExitCode:3"},
		{"init signal", withInit(pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodPending,
			InitContainerStatuses: []corev1.ContainerStatus{terminated("init", "", 137, 9)}})), "0/1", "Init:Signal:9"},
		{"sidecar started and ready", func() *corev1.Pod {
			p := pod([]string{"app"}, corev1.PodStatus{Phase: corev1.PodRunning,
				Conditions:            []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}},
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "proxy", Ready: true, Started: ptr.To(true), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
				ContainerStatuses:     []corev1.ContainerStatus{running("app", true, 0)}})
			p.Spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: &sidecar}}
			return p
		}(), "2/2", "Running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cells := row(t, podsGR, tt.pod)
			if cells[1] != tt.ready || cells[2] != tt.status {
				t.Errorf("READY %v STATUS %v, want %v %v", cells[1], cells[2], tt.ready, tt.status)
			}
		})
	}
}

func TestPodRestarts(t *testing.T) {
	restarted := func(name string, count int32, finished time.Duration) corev1.ContainerStatus {
		s := running(name, true, count)
		s.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{FinishedAt: ago(finished)}
		return s
	}
	tests := []struct {
		name     string
		statuses []corev1.ContainerStatus
		want     string
	}{
		{"never", []corev1.ContainerStatus{running("a", true, 0)}, "0"},
		{"without last state", []corev1.ContainerStatus{running("a", true, 2)}, "2"},
		{"last restart wins", []corev1.ContainerStatus{restarted("a", 20, 7*time.Hour), restarted("b", 8, 10*time.Minute)}, "28 (10m ago)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := make([]string, len(tt.statuses))
			for i, s := range tt.statuses {
				names[i] = s.Name
			}
			cells := row(t, podsGR, pod(names, corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: tt.statuses}))
			if cells[3] != tt.want {
				t.Errorf("RESTARTS %q, want %q", cells[3], tt.want)
			}
		})
	}
}

func TestPodWideCells(t *testing.T) {
	p := pod([]string{"app"}, corev1.PodStatus{
		Phase:             corev1.PodRunning,
		PodIPs:            []corev1.PodIP{{IP: "172.16.0.5"}, {IP: "fd00::5"}},
		NominatedNodeName: "w2-k8s",
		Conditions: []corev1.PodCondition{
			{Type: "example.com/a", Status: corev1.ConditionTrue},
			{Type: "example.com/b", Status: corev1.ConditionFalse},
		},
	})
	p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/a"}, {ConditionType: "example.com/b"}}
	cells := row(t, podsGR, p)
	assertCells(t, podsGR, cells[5:], []interface{}{"172.16.0.5", "<none>", "w2-k8s", "1/2"})
}

func TestPodConditions(t *testing.T) {
	p, _ := For(podsGR)
	tests := []struct {
		phase  corev1.PodPhase
		reason string
	}{
		{corev1.PodRunning, ""},
		{corev1.PodSucceeded, "Succeeded"},
		{corev1.PodFailed, "Failed"},
	}
	for _, tt := range tests {
		got := p.Conditions(pod(nil, corev1.PodStatus{Phase: tt.phase}))
		switch {
		case tt.reason == "" && len(got) != 0:
			t.Errorf("%s: conditions %v, want none", tt.phase, got)
		case tt.reason != "" && (len(got) != 1 || got[0].Type != metav1.RowCompleted || got[0].Reason != tt.reason):
			t.Errorf("%s: conditions %v, want Completed/%s", tt.phase, got, tt.reason)
		}
	}
}

func TestPodsKubectlWide(t *testing.T) {
	restarted := running("nfs", true, 28)
	restarted.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{FinishedAt: ago(10 * time.Minute)}
	multi := pod([]string{"a", "b"}, corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "172.16.132.6",
		ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0), running("b", true, 0)}})
	multi.Name, multi.CreationTimestamp, multi.Spec.NodeName = "multi-container", ago(15*time.Minute), "w3-k8s"
	nfs := pod([]string{"nfs"}, corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "172.16.221.133",
		ContainerStatuses: []corev1.ContainerStatus{restarted}})
	nfs.Name, nfs.CreationTimestamp, nfs.Spec.NodeName = "nfs-client-provisioner-5cf87f6995-vg6fq", ago(7*time.Hour+4*time.Minute), "w1-k8s"

	// From the seed lab notes (001), `kubectl get pod -o wide`.
	want := lines(
		"NAME                                      READY   STATUS    RESTARTS       AGE    IP               NODE     NOMINATED NODE   READINESS GATES",
		"multi-container                           2/2     Running   0              15m    172.16.132.6     w3-k8s   <none>           <none>",
		"nfs-client-provisioner-5cf87f6995-vg6fq   1/1     Running   28 (10m ago)   7h4m   172.16.221.133   w1-k8s   <none>           <none>",
	)
	if got := kubectlGet(t, podsGR, true, multi, nfs); got != want {
		t.Errorf("kubectl get pods -o wide:\n%s\nwant:\n%s", got, want)
	}
}

func TestNodeRow(t *testing.T) {
	node := func(labels map[string]string, unschedulable bool, conditions ...corev1.NodeCondition) *corev1.Node {
		n := &corev1.Node{ObjectMeta: objectMeta("w1-k8s", "", 3*time.Hour), Spec: corev1.NodeSpec{Unschedulable: unschedulable}}
		n.Labels = labels
		n.Status.Conditions = conditions
		n.Status.NodeInfo = corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", OSImage: "Debian GNU/Linux 13 (trixie)", KernelVersion: "6.12.0", Architecture: "amd64", ContainerRuntimeVersion: "kin://0.1.0"}
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "w1-k8s"}, {Type: corev1.NodeInternalIP, Address: "192.168.1.101"}}
		return n
	}
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue}
	notReady := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown}
	pressure := corev1.NodeCondition{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}

	tests := []struct {
		name   string
		node   *corev1.Node
		status string
		roles  string
	}{
		{"ready worker", node(nil, false, pressure, ready), "Ready", "<none>"},
		{"control plane", node(map[string]string{"node-role.kubernetes.io/control-plane": ""}, false, ready), "Ready", "control-plane"},
		{"roles sorted, legacy label", node(map[string]string{"node-role.kubernetes.io/worker": "", "kubernetes.io/role": "infra", "node-role.kubernetes.io/": ""}, false, ready), "Ready", "infra,worker"},
		{"not ready", node(nil, false, notReady), "NotReady", "<none>"},
		{"cordoned", node(nil, true, ready), "Ready,SchedulingDisabled", "<none>"},
		{"no conditions", node(nil, false), "Unknown", "<none>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertCells(t, nodesGR, row(t, nodesGR, tt.node), []interface{}{
				"w1-k8s", tt.status, tt.roles, "3h", "v1.37.2",
				"192.168.1.101", "<none>", "Debian GNU/Linux 13 (trixie)", "6.12.0 (amd64)", "kin://0.1.0",
			})
		})
	}

	bare := &corev1.Node{ObjectMeta: objectMeta("bare", "", time.Minute)}
	assertCells(t, nodesGR, row(t, nodesGR, bare), []interface{}{
		"bare", "Unknown", "<none>", "60s", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>",
	})
}

func TestServiceRow(t *testing.T) {
	svc := func(typ corev1.ServiceType, clusterIP string, ports ...corev1.ServicePort) *corev1.Service {
		s := &corev1.Service{ObjectMeta: objectMeta("web", "default", 7*time.Second)}
		s.Spec.Type = typ
		s.Spec.ClusterIP = clusterIP
		if clusterIP != "" {
			s.Spec.ClusterIPs = []string{clusterIP}
		}
		s.Spec.Ports = ports
		return s
	}
	tcp := func(port, nodePort int32) corev1.ServicePort {
		return corev1.ServicePort{Port: port, NodePort: nodePort, Protocol: corev1.ProtocolTCP}
	}
	with := func(s *corev1.Service, f func(*corev1.Service)) *corev1.Service {
		f(s)
		return s
	}

	tests := []struct {
		name      string
		svc       *corev1.Service
		clusterIP string
		external  string
		ports     string
		selector  string
	}{
		{"cluster ip", with(svc(corev1.ServiceTypeClusterIP, "10.96.0.1", tcp(443, 0)), func(s *corev1.Service) {
			s.Spec.Selector = map[string]string{"app": "web", "tier": "front"}
		}), "10.96.0.1", "<none>", "443/TCP", "app=web,tier=front"},
		{"cluster ip with external ips", with(svc(corev1.ServiceTypeClusterIP, "10.96.0.20", tcp(80, 0)), func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"192.168.1.50", "192.168.1.51"}
		}), "10.96.0.20", "192.168.1.50,192.168.1.51", "80/TCP", "<none>"},
		{"headless", svc(corev1.ServiceTypeClusterIP, "None"), "None", "<none>", "<none>", "<none>"},
		{"only singular cluster ip", with(svc(corev1.ServiceTypeClusterIP, "", tcp(80, 0)), func(s *corev1.Service) {
			s.Spec.ClusterIP = "10.96.0.30"
		}), "10.96.0.30", "<none>", "80/TCP", "<none>"},
		{"node port", svc(corev1.ServiceTypeNodePort, "10.100.38.132", tcp(80, 30007)), "10.100.38.132", "<none>", "80:30007/TCP", "<none>"},
		{"several ports", svc(corev1.ServiceTypeClusterIP, "10.96.0.10",
			corev1.ServicePort{Port: 53, Protocol: corev1.ProtocolUDP}, tcp(53, 0), tcp(9153, 0)), "10.96.0.10", "<none>", "53/UDP,53/TCP,9153/TCP", "<none>"},
		{"load balancer pending", svc(corev1.ServiceTypeLoadBalancer, "10.100.170.165", tcp(8088, 30843)), "10.100.170.165", "<pending>", "8088:30843/TCP", "<none>"},
		{"load balancer with ip", with(svc(corev1.ServiceTypeLoadBalancer, "10.100.170.165", tcp(8088, 30843)), func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.168.1.11"}}
		}), "10.100.170.165", "192.168.1.11", "8088:30843/TCP", "<none>"},
		{"load balancer hostnames sorted, deduplicated, not shortened", with(svc(corev1.ServiceTypeLoadBalancer, "10.100.0.9", tcp(80, 31000)), func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{
				{Hostname: "k8s-default-web-0123456789.elb.ap-northeast-2.amazonaws.com"},
				{IP: "192.168.1.151"}, {IP: "192.168.1.150", Hostname: "ignored"}, {IP: "192.168.1.151"},
			}
		}), "10.100.0.9", "192.168.1.150,192.168.1.151,k8s-default-web-0123456789.elb.ap-northeast-2.amazonaws.com", "80:31000/TCP", "<none>"},
		{"load balancer with external ips", with(svc(corev1.ServiceTypeLoadBalancer, "10.100.0.9", tcp(80, 31000)), func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.168.1.150"}}
			s.Spec.ExternalIPs = []string{"192.168.1.60"}
		}), "10.100.0.9", "192.168.1.150,192.168.1.60", "80:31000/TCP", "<none>"},
		{"pending load balancer with external ips", with(svc(corev1.ServiceTypeLoadBalancer, "10.100.0.9", tcp(80, 31000)), func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"192.168.1.60"}
		}), "10.100.0.9", "192.168.1.60", "80:31000/TCP", "<none>"},
		{"external name", with(svc(corev1.ServiceTypeExternalName, ""), func(s *corev1.Service) {
			s.Spec.ExternalName = "my.database.example.com"
		}), "<none>", "my.database.example.com", "<none>", "<none>"},
		{"no type", svc("", "10.96.0.40", tcp(80, 0)), "10.96.0.40", "<unknown>", "80/TCP", "<none>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertCells(t, servicesGR, row(t, servicesGR, tt.svc), []interface{}{
				"web", string(tt.svc.Spec.Type), tt.clusterIP, tt.external, tt.ports, "7s", tt.selector,
			})
		})
	}
}

func TestServicesKubectl(t *testing.T) {
	svc := func(name string, typ corev1.ServiceType, ip string, d time.Duration, port, nodePort int32) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: objectMeta(name, "default", d),
			Spec: corev1.ServiceSpec{Type: typ, ClusterIP: ip, ClusterIPs: []string{ip},
				Ports: []corev1.ServicePort{{Port: port, NodePort: nodePort, Protocol: corev1.ProtocolTCP}}},
		}
	}
	lb := svc("nginx2-service", corev1.ServiceTypeLoadBalancer, "10.100.170.165", 7*time.Second, 8088, 30843)
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.168.1.11"}}

	// From the seed lab notes (001), `kubectl get svc`.
	want := lines(
		"NAME                  TYPE           CLUSTER-IP       EXTERNAL-IP    PORT(S)          AGE",
		"kubernetes            ClusterIP      10.96.0.1        <none>         443/TCP          3h22m",
		"my-service-nodeport   NodePort       10.100.38.132    <none>         80:30007/TCP     5m1s",
		"nginx-service         ClusterIP      10.103.98.179    <none>         80/TCP           8m1s",
		"nginx2-service        LoadBalancer   10.100.170.165   192.168.1.11   8088:30843/TCP   7s",
	)
	got := kubectlGet(t, servicesGR, false,
		svc("kubernetes", corev1.ServiceTypeClusterIP, "10.96.0.1", 3*time.Hour+22*time.Minute, 443, 0),
		svc("my-service-nodeport", corev1.ServiceTypeNodePort, "10.100.38.132", 5*time.Minute+time.Second, 80, 30007),
		svc("nginx-service", corev1.ServiceTypeClusterIP, "10.103.98.179", 8*time.Minute+time.Second, 80, 0),
		lb,
	)
	if got != want {
		t.Errorf("kubectl get svc:\n%s\nwant:\n%s", got, want)
	}
}

func TestEndpointsRow(t *testing.T) {
	addrs := func(ips ...string) []corev1.EndpointAddress {
		out := make([]corev1.EndpointAddress, len(ips))
		for i, ip := range ips {
			out[i] = corev1.EndpointAddress{IP: ip}
		}
		return out
	}
	tests := []struct {
		name    string
		subsets []corev1.EndpointSubset
		want    string
	}{
		{"none", nil, "<none>"},
		{"one", []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1"), Ports: []corev1.EndpointPort{{Port: 80}}}}, "10.0.0.1:80"},
		{"exactly three", []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2", "10.0.0.3"), Ports: []corev1.EndpointPort{{Port: 80}}}},
			"10.0.0.1:80,10.0.0.2:80,10.0.0.3:80"},
		{"four", []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"), Ports: []corev1.EndpointPort{{Port: 80}}}},
			"10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more..."},
		// kube-dns: two pods, three ports, as `kubectl get ep kube-dns` prints it.
		{"per port", []corev1.EndpointSubset{{Addresses: addrs("10.1.0.20", "10.1.0.21"), Ports: []corev1.EndpointPort{
			{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", Port: 53}, {Name: "metrics", Port: 9153}}}},
			"10.1.0.20:53,10.1.0.21:53,10.1.0.20:53 + 3 more..."},
		{"headless without ports", []corev1.EndpointSubset{{Addresses: addrs("10.0.0.1", "10.0.0.2")}}, "10.0.0.1,10.0.0.2"},
		{"ipv6", []corev1.EndpointSubset{{Addresses: addrs("fd00::1"), Ports: []corev1.EndpointPort{{Port: 80}}}}, "[fd00::1]:80"},
		{"only not ready", []corev1.EndpointSubset{{NotReadyAddresses: addrs("10.0.0.1"), Ports: []corev1.EndpointPort{{Port: 80}}}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := &corev1.Endpoints{ObjectMeta: objectMeta("web", "default", 90*time.Second), Subsets: tt.subsets}
			assertCells(t, endpointsGR, row(t, endpointsGR, ep), []interface{}{"web", tt.want, "90s"})
		})
	}
}

func TestSmallCoreRows(t *testing.T) {
	tests := []struct {
		resource string
		obj      runtime.Object
		columns  []string
		cells    []interface{}
	}{
		{"namespaces", &corev1.Namespace{ObjectMeta: objectMeta("default", "", 49*time.Hour), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
			[]string{"Name", "Status", "Age"}, []interface{}{"default", "Active", "2d1h"}},
		{"configmaps", &corev1.ConfigMap{ObjectMeta: objectMeta("coredns", "kube-system", time.Hour),
			Data: map[string]string{"Corefile": "."}, BinaryData: map[string][]byte{"bin": nil}},
			[]string{"Name", "Data", "Age"}, []interface{}{"coredns", int64(2), "60m"}},
		{"secrets", &corev1.Secret{ObjectMeta: objectMeta("tls", "default", 3*time.Minute), Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}, StringData: map[string]string{"tls.key": "x", "ca.crt": "y"}},
			[]string{"Name", "Type", "Data", "Age"}, []interface{}{"tls", "kubernetes.io/tls", int64(3), "3m"}},
		{"serviceaccounts", &corev1.ServiceAccount{ObjectMeta: objectMeta("default", "default", 10*24*time.Hour),
			Secrets: []corev1.ObjectReference{{Name: "token"}}},
			[]string{"Name", "Age"}, []interface{}{"default", "10d"}},
	}
	for _, tt := range tests {
		t.Run(tt.resource, func(t *testing.T) {
			gr := schema.GroupResource{Resource: tt.resource}
			p, ok := For(gr)
			if !ok {
				t.Fatalf("no printer")
			}
			if got := header(p.Columns); !slices.Equal(got, tt.columns) {
				t.Errorf("columns %q, want %q", got, tt.columns)
			}
			cells, err := p.Row(tt.obj, now)
			if err != nil {
				t.Fatal(err)
			}
			assertCells(t, gr, cells, tt.cells)
		})
	}
}

func TestEventRow(t *testing.T) {
	p, _ := For(eventsGR)
	want := []string{"Last Seen", "Type", "Reason", "Object", "Subobject*", "Source*", "Message", "First Seen*", "Count*", "Name*"}
	if got := header(p.Columns); !slices.Equal(got, want) {
		t.Errorf("columns %q, want %q", got, want)
	}

	event := func(f func(*corev1.Event)) *corev1.Event {
		e := &corev1.Event{
			ObjectMeta:     objectMeta("web.17d", "default", time.Hour),
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", FieldPath: "spec.containers{app}"},
			Type:           corev1.EventTypeNormal,
			Reason:         "Pulled",
			Message:        "  Container image \"nginx\" already present on machine\n",
			Source:         corev1.EventSource{Component: "kubelet", Host: "w1-k8s"},
			FirstTimestamp: ago(20 * time.Minute),
			LastTimestamp:  ago(2 * time.Minute),
			Count:          4,
		}
		f(e)
		return e
	}
	tests := []struct {
		name  string
		event *corev1.Event
		want  []interface{}
	}{
		{"core event", event(func(*corev1.Event) {}), []interface{}{
			"2m", "Normal", "Pulled", "pod/web", "spec.containers{app}", "kubelet, w1-k8s",
			`Container image "nginx" already present on machine`, "20m", int64(4), "web.17d"}},
		{"events.k8s.io event", event(func(e *corev1.Event) {
			e.FirstTimestamp, e.LastTimestamp, e.Count = metav1.Time{}, metav1.Time{}, 0
			e.EventTime = metav1.NewMicroTime(now.Add(-30 * time.Second))
			e.Source = corev1.EventSource{}
			e.ReportingController, e.ReportingInstance = "default-scheduler", ""
			e.InvolvedObject = corev1.ObjectReference{Kind: "Node"}
		}), []interface{}{"30s", "Normal", "Pulled", "node", "", "default-scheduler",
			`Container image "nginx" already present on machine`, "30s", int64(1), "web.17d"}},
		{"series", event(func(e *corev1.Event) {
			e.Series = &corev1.EventSeries{Count: 9, LastObservedTime: metav1.NewMicroTime(now.Add(-5 * time.Second))}
		}), []interface{}{"5s", "Normal", "Pulled", "pod/web", "spec.containers{app}", "kubelet, w1-k8s",
			`Container image "nginx" already present on machine`, "20m", int64(9), "web.17d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertCells(t, eventsGR, row(t, eventsGR, tt.event), tt.want)
		})
	}
}

func TestEventsV1Row(t *testing.T) {
	gr := schema.GroupResource{Group: "events.k8s.io", Resource: "events"}
	e := &eventsv1.Event{
		ObjectMeta:          objectMeta("web.17e", "default", time.Hour),
		EventTime:           metav1.NewMicroTime(now.Add(-3 * time.Minute)),
		Series:              &eventsv1.EventSeries{Count: 5, LastObservedTime: metav1.NewMicroTime(now.Add(-20 * time.Second))},
		ReportingController: "kin.io/node",
		ReportingInstance:   "w2-k8s",
		Reason:              "BackOff",
		Regarding:           corev1.ObjectReference{Kind: "Pod", Name: "web", FieldPath: "spec.containers{app}"},
		Note:                "Back-off restarting failed container",
		Type:                corev1.EventTypeWarning,
	}
	core, _ := For(eventsGR)
	p, ok := For(gr)
	if !ok || !slices.Equal(header(p.Columns), header(core.Columns)) {
		t.Fatalf("events.k8s.io columns %q, want the core event columns", header(p.Columns))
	}
	assertCells(t, gr, row(t, gr, e), []interface{}{"20s", "Warning", "BackOff", "pod/web", "spec.containers{app}", "kin.io/node, w2-k8s",
		"Back-off restarting failed container", "3m", int64(5), "web.17e"})
}
