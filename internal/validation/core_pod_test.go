package validation

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// newPod returns a valid Pod named web with one nginx container, changed by
// mut.
func newPod(mut func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "nginx",
				Image: "nginx:1.27",
				Ports: []corev1.ContainerPort{{ContainerPort: 80}},
			}},
		},
	}
	if mut != nil {
		mut(p)
	}
	return p
}

func TestPodDefaults(t *testing.T) {
	p := newPod(func(p *corev1.Pod) {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{
			Name:  "sidecar",
			Image: "busybox",
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080)},
			}},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}},
		})
		p.Spec.Volumes = []corev1.Volume{{Name: "data"}}
	})
	Default(p)
	PrepareForCreate(p)
	s := p.Spec
	if s.RestartPolicy != corev1.RestartPolicyAlways || s.DNSPolicy != corev1.DNSClusterFirst || s.SchedulerName != "default-scheduler" {
		t.Errorf("restartPolicy/dnsPolicy/schedulerName = %q/%q/%q", s.RestartPolicy, s.DNSPolicy, s.SchedulerName)
	}
	if s.TerminationGracePeriodSeconds == nil || *s.TerminationGracePeriodSeconds != 30 {
		t.Errorf("terminationGracePeriodSeconds = %v, want 30", s.TerminationGracePeriodSeconds)
	}
	if s.SecurityContext == nil || s.EnableServiceLinks == nil || !*s.EnableServiceLinks {
		t.Errorf("securityContext %v / enableServiceLinks %v not defaulted", s.SecurityContext, s.EnableServiceLinks)
	}
	if s.ServiceAccountName != "default" || s.DeprecatedServiceAccount != "default" {
		t.Errorf("serviceAccountName/serviceAccount = %q/%q, want default", s.ServiceAccountName, s.DeprecatedServiceAccount)
	}
	if s.Priority == nil || *s.Priority != 0 || s.PreemptionPolicy == nil || *s.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("priority %v / preemptionPolicy %v", s.Priority, s.PreemptionPolicy)
	}
	if len(s.Tolerations) != 2 {
		t.Fatalf("tolerations = %v, want not-ready and unreachable", s.Tolerations)
	}
	for i, key := range []string{"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"} {
		tol := s.Tolerations[i]
		if tol.Key != key || tol.Operator != corev1.TolerationOpExists || tol.Effect != corev1.TaintEffectNoExecute || tol.TolerationSeconds == nil || *tol.TolerationSeconds != 300 {
			t.Errorf("toleration %d = %+v", i, tol)
		}
	}
	c := s.Containers[0]
	if c.ImagePullPolicy != corev1.PullIfNotPresent || c.TerminationMessagePath != "/dev/termination-log" || c.TerminationMessagePolicy != corev1.TerminationMessageReadFile {
		t.Errorf("container defaults: %q %q %q", c.ImagePullPolicy, c.TerminationMessagePath, c.TerminationMessagePolicy)
	}
	if c.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("port protocol = %q, want TCP", c.Ports[0].Protocol)
	}
	side := s.Containers[1]
	if side.ImagePullPolicy != corev1.PullAlways {
		t.Errorf("untagged image pull policy = %q, want Always", side.ImagePullPolicy)
	}
	pr := side.LivenessProbe
	if pr.TimeoutSeconds != 1 || pr.PeriodSeconds != 10 || pr.SuccessThreshold != 1 || pr.FailureThreshold != 3 || pr.HTTPGet.Scheme != corev1.URISchemeHTTP || pr.HTTPGet.Path != "/" {
		t.Errorf("probe defaults: %+v %+v", pr, pr.HTTPGet)
	}
	if q := side.Resources.Requests[corev1.ResourceCPU]; q.String() != "500m" {
		t.Errorf("cpu request defaulted from limit = %q, want 500m", q.String())
	}
	if s.Volumes[0].EmptyDir == nil {
		t.Errorf("volume without source did not default to emptyDir")
	}
	if p.Status.Phase != corev1.PodPending || p.Status.QOSClass != corev1.PodQOSBurstable || p.Generation != 1 {
		t.Errorf("status %q/%q generation %d", p.Status.Phase, p.Status.QOSClass, p.Generation)
	}
}

func TestPodDefaultsKeepUserValues(t *testing.T) {
	p := newPod(func(p *corev1.Pod) {
		p.Spec.ServiceAccountName = "builder"
		p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		p.Spec.PriorityClassName = "system-node-critical"
		p.Spec.Containers[0].Image = "registry.local:5000/app@sha256:0123"
	})
	Default(p)
	if p.Spec.ServiceAccountName != "builder" || p.Spec.DeprecatedServiceAccount != "builder" {
		t.Errorf("serviceAccountName = %q", p.Spec.ServiceAccountName)
	}
	if len(p.Spec.Tolerations) != 1 {
		t.Errorf("a toleration of everything should suppress the defaults, got %v", p.Spec.Tolerations)
	}
	if p.Spec.Priority == nil || *p.Spec.Priority != 2000001000 {
		t.Errorf("system-node-critical priority = %v", p.Spec.Priority)
	}
	if p.Spec.Containers[0].ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("digest image pull policy = %q, want IfNotPresent", p.Spec.Containers[0].ImagePullPolicy)
	}
}

func TestPodQOS(t *testing.T) {
	res := func(cpuReq, cpuLim, memReq, memLim string) corev1.ResourceRequirements {
		r := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
		for _, x := range []struct {
			name corev1.ResourceName
			q    string
			rl   corev1.ResourceList
		}{{corev1.ResourceCPU, cpuReq, r.Requests}, {corev1.ResourceCPU, cpuLim, r.Limits}, {corev1.ResourceMemory, memReq, r.Requests}, {corev1.ResourceMemory, memLim, r.Limits}} {
			if x.q != "" {
				x.rl[x.name] = resource.MustParse(x.q)
			}
		}
		return r
	}
	tests := []struct {
		name string
		r    corev1.ResourceRequirements
		want corev1.PodQOSClass
	}{
		{"nothing", corev1.ResourceRequirements{}, corev1.PodQOSBestEffort},
		{"requests only", res("100m", "", "", ""), corev1.PodQOSBurstable},
		{"equal limits", res("1", "1", "1Gi", "1Gi"), corev1.PodQOSGuaranteed},
		{"limits only", res("", "1", "", "1Gi"), corev1.PodQOSGuaranteed},
		{"requests below limits", res("500m", "1", "1Gi", "1Gi"), corev1.PodQOSBurstable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPod(func(p *corev1.Pod) { p.Spec.Containers[0].Resources = tc.r })
			Default(p)
			PrepareForCreate(p)
			if p.Status.QOSClass != tc.want {
				t.Errorf("QOS = %q, want %q", p.Status.QOSClass, tc.want)
			}
		})
	}
}

func TestPodValidateCreate(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		want []string
	}{
		{"valid", newPod(nil), nil},
		{"no containers", newPod(func(p *corev1.Pod) { p.Spec.Containers = nil }),
			[]string{"spec.containers: Required value"}},
		{"container name not a label", newPod(func(p *corev1.Pod) { p.Spec.Containers[0].Name = "Web_1" }),
			[]string{`spec.containers[0].name: Invalid value: "Web_1": ` + dns1123LabelMsg}},
		{"duplicate container names", newPod(func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "nginx", Image: "busybox"})
		}), []string{`spec.containers[1].name: Duplicate value: "nginx"`}},
		{"no image", newPod(func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" }),
			[]string{"spec.containers[0].image: Required value"}},
		{"image with a trailing space", newPod(func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx " }),
			[]string{`spec.containers[0].image: Invalid value: "nginx ": must not have leading or trailing whitespace`}},
		{"bad restartPolicy", newPod(func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" }),
			[]string{`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`}},
		{"bad dnsPolicy", newPod(func(p *corev1.Pod) { p.Spec.DNSPolicy = "Cluster" }),
			[]string{`spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"`}},
		{"dnsPolicy None without config", newPod(func(p *corev1.Pod) { p.Spec.DNSPolicy = corev1.DNSNone }),
			[]string{"spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"}},
		{"container port 0", newPod(func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 0 }),
			[]string{"spec.containers[0].ports[0].containerPort: Required value"}},
		{"container port too big", newPod(func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 65536 }),
			[]string{"spec.containers[0].ports[0].containerPort: Invalid value: 65536: " + portRangeMsg}},
		{"port name too long", newPod(func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Name = "a-very-long-port-name" }),
			[]string{`spec.containers[0].ports[0].name: Invalid value: "a-very-long-port-name": must be no more than 15 characters`}},
		{"host port conflict", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 81, HostPort: 8080}}
		}), []string{`spec.containers[0].ports[1].hostPort: Duplicate value: "TCP//8080"`}},
		{"probe without handler", newPod(func(p *corev1.Pod) { p.Spec.Containers[0].LivenessProbe = &corev1.Probe{} }),
			[]string{"spec.containers[0].livenessProbe: Required value: must specify a handler type"}},
		{"liveness successThreshold 2", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{SuccessThreshold: 2, ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}}}
		}), []string{"spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"}},
		{"probe with two handlers", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				Exec:      &corev1.ExecAction{Command: []string{"true"}},
				TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")},
			}}
		}), []string{"spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"}},
		{"negative probe delay", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{InitialDelaySeconds: -5, ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)}}}
		}), []string{"spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -5: must be greater than or equal to 0"}},
		{"requests above limits", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
			}
		}), []string{`spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`}},
		{"negative memory request", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("-64Mi")}
		}), []string{`spec.containers[0].resources.requests[memory]: Invalid value: "-64Mi": must be greater than or equal to 0`}},
		{"unknown resource", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{"gpu": resource.MustParse("1")}
		}), []string{
			`spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified`,
			`spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers`,
		}},
		{"extended resource without limit", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{"example.com/gpu": resource.MustParse("1")}
		}), []string{"spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"}},
		{"mount of a missing volume", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}), []string{`spec.containers[0].volumeMounts[0].name: Not found: "data"`}},
		{"mount without path", newPod(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "data"}}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data"}}
		}), []string{"spec.containers[0].volumeMounts[0].mountPath: Required value"}},
		{"volume with two sources", newPod(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				EmptyDir: &corev1.EmptyDirVolumeSource{},
				HostPath: &corev1.HostPathVolumeSource{Path: "/tmp"},
			}}}
		}), []string{"spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"}},
		{"configMap volume without name", newPod(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}}
		}), []string{"spec.volumes[0].configMap.name: Required value"}},
		{"duplicate volume names", newPod(func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "data"}, {Name: "data"}}
		}), []string{`spec.volumes[1].name: Duplicate value: "data"`}},
		{"env name with =", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A=B", Value: "x"}}
		}), []string{`spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`}},
		{"env from an unsupported field", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.foo"}}}}
		}), []string{`spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: "spec.foo": error converting fieldPath: field label not supported: spec.foo`}},
		{"env from labels without key", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}}}}
		}), []string{`spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "metadata.labels": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"`}},
		{"env valueFrom and value", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "X", Value: "y", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}}}
		}), []string{`spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when ` + "`value`" + ` is not empty`}},
		{"bad toleration", newPod(func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: "In", Value: "gpu"}}
		}), []string{`spec.tolerations[0].operator: Unsupported value: "In": supported values: "Equal", "Exists"`}},
		{"tolerationSeconds without NoExecute", newPod(func(p *corev1.Pod) {
			secs := int64(10)
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: &secs}}
		}), []string{`spec.tolerations[0].effect: Invalid value: "NoSchedule": effect must be 'NoExecute' when ` + "`tolerationSeconds`" + ` is set`}},
		{"hostname not a label", newPod(func(p *corev1.Pod) { p.Spec.Hostname = "web.local" }),
			[]string{`spec.hostname: Invalid value: "web.local": must not contain dots`}},
		{"node selector value", newPod(func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"zone": "a b"} }),
			[]string{`spec.nodeSelector: Invalid value: "a b": ` + labelValueMsg}},
		{"affinity weight", newPod(func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 200, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname"}}},
			}}
		}), []string{"spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 200: must be in the range 1-100"}},
		{"hostNetwork port mismatch", newPod(func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports[0].HostPort = 8080
		}), []string{"spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true"}},
		{"ephemeral containers on create", newPod(func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
		}), []string{"spec.ephemeralContainers: Forbidden: cannot be set on create"}},
		{"init container with a probe", newPod(func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}}}
		}), []string{"spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"}},
		{"bad pod name", newPod(func(p *corev1.Pod) { p.Name = "web_1" }),
			[]string{`metadata.name: Invalid value: "web_1": ` + dns1123SubdomainMsg}},
		{"bad finalizer", newPod(func(p *corev1.Pod) { p.Finalizers = []string{"cleanup"} }),
			[]string{`metadata.finalizers[0]: Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified`}},
		{"bad annotation key", newPod(func(p *corev1.Pod) { p.Annotations = map[string]string{"/x": "y"} }),
			[]string{`metadata.annotations: Invalid value: "/x": prefix part must be non-empty`}},
		{"bad deletion cost", newPod(func(p *corev1.Pod) {
			p.Annotations = map[string]string{"controller.kubernetes.io/pod-deletion-cost": "lots"}
		}), []string{`metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: "lots": must be a 32bit integer`}},
		{"bad securityContext user", newPod(func(p *corev1.Pod) {
			uid := int64(-1)
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: &uid}
		}), []string{"spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.pod), tc.want)
		})
	}
}

func TestPodValidateUpdate(t *testing.T) {
	const forbidden = "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []string
		// wantPrefix is set when the last error ends in a diff, which is
		// checked by prefix only.
		wantPrefix bool
	}{
		{name: "change image", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.28" }},
		{name: "add label", mutate: func(p *corev1.Pod) { p.Labels["tier"] = "front" }},
		{name: "add toleration", mutate: func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists})
		}},
		// The defaulted node-condition tolerations come back, as the
		// DefaultTolerationSeconds plugin also runs on updates; a toleration
		// the user added cannot be dropped.
		{name: "remove toleration", mutate: func(p *corev1.Pod) { p.Spec.Tolerations = nil },
			want: []string{"spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"}},
		{name: "add container", mutate: func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "b", Image: "busybox"})
		}, want: []string{"spec.containers: Forbidden: pod updates may not add or remove containers"}},
		{name: "change command", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Command = []string{"sleep", "1"} },
			want: []string{forbidden}, wantPrefix: true},
		{name: "raise activeDeadlineSeconds", mutate: func(p *corev1.Pod) {
			v := int64(600)
			p.Spec.ActiveDeadlineSeconds = &v
		}},
		{name: "empty image", mutate: func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" },
			want: []string{"spec.containers[0].image: Required value", "spec.containers[0].image: Required value"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := mustCreate(t, newPod(func(p *corev1.Pod) {
				p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Value: "web", Effect: corev1.TaintEffectNoSchedule}}
			}))
			pod := old.DeepCopy()
			tc.mutate(pod)
			errs := update(pod, old)
			if !tc.wantPrefix {
				checkErrors(t, errs, tc.want)
				return
			}
			got := render(errs)
			if len(got) != 1 || !strings.HasPrefix(got[0], tc.want[0]) {
				t.Fatalf("got %q, want one error starting with %q", got, tc.want[0])
			}
			if !strings.Contains(got[0], "Command") {
				t.Errorf("diff does not name the changed field: %q", got[0])
			}
		})
	}
}

func TestPodUpdateKeepsStatusAndBumpsGeneration(t *testing.T) {
	old := mustCreate(t, newPod(nil))
	old.Status.Phase = corev1.PodRunning
	pod := old.DeepCopy()
	pod.Status = corev1.PodStatus{}
	pod.Spec.Containers[0].Image = "nginx:1.28"
	if errs := update(pod, old); len(errs) != 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	if pod.Status.Phase != corev1.PodRunning || pod.Generation != 2 {
		t.Errorf("phase %q generation %d, want Running and 2", pod.Status.Phase, pod.Generation)
	}
}

func TestPodSpecDetails(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		want []string
	}{
		{"privilege escalation with privileged", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptrTo(true), AllowPrivilegeEscalation: ptrTo(false)}
		}), []string{`spec.containers[0].securityContext: Invalid value: {"Capabilities":null,"Privileged":true,"SELinuxOptions":null,"WindowsOptions":null,"RunAsUser":null,"RunAsGroup":null,"RunAsNonRoot":null,"ReadOnlyRootFilesystem":null,"AllowPrivilegeEscalation":false,"ProcMount":null,"SeccompProfile":null,"AppArmorProfile":null}: cannot set ` + "`allowPrivilegeEscalation`" + ` to false and ` + "`privileged`" + ` to true`}},
		{"seccomp without type", newPod(func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{}}
		}), []string{"spec.securityContext.seccompProfile.type: Required value: type is required when seccompProfile is set"}},
		{"localhost seccomp without profile", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost}}
		}), []string{"spec.containers[0].securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost"}},
		{"apparmor with a profile it cannot use", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault, LocalhostProfile: ptrTo("x")}}
		}), []string{`spec.containers[0].securityContext.appArmorProfile.localhostProfile: Invalid value: "x": can only be set when AppArmor type is Localhost`}},
		{"fsGroup out of range", newPod(func(p *corev1.Pod) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{FSGroup: ptrTo(int64(-5))}
		}), []string{"spec.securityContext.fsGroup: Invalid value: -5: must be between 0 and 2147483647, inclusive"}},
		{"net sysctl with host network", newPod(func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{{Name: "net.ipv4.ip_forward", Value: "1"}}}
		}), []string{`spec.securityContext.sysctls[0].name: Invalid value: "net.ipv4.ip_forward": may not be specified when 'hostNetwork' is true`}},
		{"shareProcessNamespace with hostPID", newPod(func(p *corev1.Pod) {
			p.Spec.HostPID = true
			p.Spec.ShareProcessNamespace = ptrTo(true)
		}), []string{"spec.securityContext.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled"}},
		{"too many nameservers", newPod(func(p *corev1.Pod) {
			p.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9", "10.96.0.10"}}
		}), []string{`spec.dnsConfig.nameservers: Invalid value: ["1.1.1.1","8.8.8.8","9.9.9.9","10.96.0.10"]: must not have more than 3 nameservers`}},
		{"bad search domain", newPod(func(p *corev1.Pod) {
			p.Spec.DNSConfig = &corev1.PodDNSConfig{Searches: []string{"Svc.Cluster.local."}}
		}), []string{`spec.dnsConfig.searches[0]: Invalid value: "Svc.Cluster.local": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*')`}},
		{"spread constraint", newPod(func(p *corev1.Pod) {
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 0, TopologyKey: "zone", WhenUnsatisfiable: "Maybe"}}
		}), []string{
			"spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero",
			`spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: "Maybe": supported values: "DoNotSchedule", "ScheduleAnyway"`,
		}},
		{"duplicate spread constraints", newPod(func(p *corev1.Pod) {
			c := corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.DoNotSchedule}
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{c, c}
		}), []string{`spec.topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}: Duplicate value: "{zone, DoNotSchedule}"`}},
		{"required node affinity without terms", newPod(func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{}}}
		}), []string{"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have at least one node selector term"}},
		{"node affinity In without values", newPod(func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn}}}},
			}}}
		}), []string{"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"}},
		{"pod affinity without topology key", newPod(func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{}}}}
		}), []string{
			"spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty",
			`spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: "": name part must be non-empty`,
			`spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Invalid value: "": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
		}},
		{"preStop sleep longer than grace period", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 60}}}
		}), []string{"spec.containers[0].lifecycle.preStop.sleep: Invalid value: 60: must be non-negative and less than terminationGracePeriodSeconds (30)"}},
		{"postStart exec without command", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{}}}
		}), []string{"spec.containers[0].lifecycle.postStart.exec.command: Required value"}},
		{"envFrom without source", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{Prefix: "APP_"}}
		}), []string{"spec.containers[0].envFrom: Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`"}},
		{"envFrom with a bad name", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "App"}}}}
		}), []string{`spec.containers[0].envFrom[0].configMapRef.name: Invalid value: "App": ` + dns1123SubdomainMsg}},
		{"resize policy for storage", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].ResizePolicy = []corev1.ContainerResizePolicy{{ResourceName: corev1.ResourceEphemeralStorage, RestartPolicy: corev1.NotRequired}}
		}), []string{`spec.containers[0].resizePolicy: Unsupported value: "ephemeral-storage": supported values: "cpu", "memory"`}},
		{"regular container with restartPolicy", newPod(func(p *corev1.Pod) {
			p.Spec.Containers[0].RestartPolicy = ptrTo(corev1.ContainerRestartPolicyAlways)
		}), []string{"spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"}},
		{"sidecar with probes", newPod(func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "proxy", Image: "envoy", RestartPolicy: ptrTo(corev1.ContainerRestartPolicyAlways),
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(15000)}}}}}
		}), nil},
		{"activeDeadlineSeconds zero", newPod(func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptrTo(int64(0)) }),
			[]string{"spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"}},
		{"unknown OS", newPod(func(p *corev1.Pod) { p.Spec.OS = &corev1.PodOS{Name: "plan9"} }),
			[]string{`spec.os: Unsupported value: "plan9": supported values: "linux", "windows"`}},
		{"bad host alias", newPod(func(p *corev1.Pod) {
			p.Spec.HostAliases = []corev1.HostAlias{{IP: "10.0.0.1", Hostnames: []string{"Db"}}}
		}), []string{`spec.hostAliases[0].hostnames[0]: Invalid value: "Db": ` + dns1123SubdomainMsg}},
		{"bad seccomp annotation", newPod(func(p *corev1.Pod) {
			p.Annotations = map[string]string{"seccomp.security.alpha.kubernetes.io/pod": "strict"}
		}), []string{`metadata.annotations.seccomp.security.alpha.kubernetes.io/pod: Invalid value: "strict": must be a valid seccomp profile`}},
		{"AppArmor annotation for a missing container", newPod(func(p *corev1.Pod) {
			p.Annotations = map[string]string{"container.apparmor.security.beta.kubernetes.io/app": "runtime/default"}
		}), []string{`metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]: Invalid value: "app": container not found`}},
		{"mirror pod annotation without node", newPod(func(p *corev1.Pod) {
			p.Annotations = map[string]string{"kubernetes.io/config.mirror": "x"}
		}), []string{`metadata.annotations[kubernetes.io/config.mirror]: Invalid value: "x": must set spec.nodeName if mirror pod annotation is set`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.pod), tc.want)
		})
	}
}
