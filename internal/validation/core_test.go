package validation

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestNamespace(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a", Namespace: "ignored"}}
	if errs := create(ns); len(errs) != 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	if ns.Labels["kubernetes.io/metadata.name"] != "team-a" || ns.Status.Phase != corev1.NamespaceActive {
		t.Errorf("defaults: labels %v phase %q", ns.Labels, ns.Status.Phase)
	}
	if len(ns.Spec.Finalizers) != 1 || ns.Spec.Finalizers[0] != corev1.FinalizerKubernetes || ns.Namespace != "" {
		t.Errorf("finalizers %v namespace %q", ns.Spec.Finalizers, ns.Namespace)
	}

	// The namespace controller removes the finalizer through /finalize; a
	// plain update may neither drop nor re-add it.
	ns.ResourceVersion = "1"
	upd := ns.DeepCopy()
	upd.Spec.Finalizers = nil
	upd.Labels["team"] = "a"
	if errs := update(upd, ns); len(errs) != 0 {
		t.Fatalf("update: unexpected errors: %v", errs)
	}
	if len(upd.Spec.Finalizers) != 1 {
		t.Errorf("update dropped spec.finalizers: %v", upd.Spec.Finalizers)
	}

	tests := []struct {
		name string
		ns   *corev1.Namespace
		want []string
	}{
		{"underscore", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team_a"}},
			[]string{`metadata.name: Invalid value: "team_a": ` + dns1123LabelMsg}},
		{"dots", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team.a"}},
			[]string{`metadata.name: Invalid value: "team.a": must not contain dots`}},
		{"bad spec finalizer", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"cleanup"}}},
			[]string{`spec.finalizers: Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.ns), tc.want)
		})
	}
}

func TestNode(t *testing.T) {
	newNode := func(mut func(*corev1.Node)) *corev1.Node {
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "w1-k8s"},
			Spec:       corev1.NodeSpec{PodCIDR: "172.16.1.0/26", PodCIDRs: []string{"172.16.1.0/26"}},
			Status:     corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourcePods: resource.MustParse("110")}},
		}
		if mut != nil {
			mut(n)
		}
		return n
	}
	n := newNode(nil)
	if errs := create(n); len(errs) != 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	if q := n.Status.Allocatable[corev1.ResourceCPU]; q.String() != "2" {
		t.Errorf("allocatable cpu = %q, want capacity 2", q.String())
	}
	tests := []struct {
		name string
		node *corev1.Node
		want []string
	}{
		{"duplicate taint", newNode(func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{
				{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule},
				{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule},
			}
		}), []string{`metadata.taints[1]: Duplicate value: {"Key":"node-role.kubernetes.io/control-plane","Value":"","Effect":"NoSchedule","TimeAdded":null}: taints must be unique by key and effect pair`}},
		{"taint without effect", newNode(func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu"}}
		}), []string{"metadata.taints[0].effect: Required value"}},
		{"bad pod CIDR", newNode(func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"172.16.1.0/33"} }),
			[]string{`spec.podCIDRs[0]: Invalid value: "172.16.1.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`}},
		{"fractional pods", newNode(func(n *corev1.Node) {
			n.Status.Capacity[corev1.ResourcePods] = resource.MustParse("1500m")
		}), []string{
			`status.capacity.pods: Invalid value: "1500m": must be an integer`,
			`status.allocatable.pods: Invalid value: "1500m": must be an integer`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.node), tc.want)
		})
	}

	n.ResourceVersion = "1"
	upd := n.DeepCopy()
	upd.Spec.PodCIDRs = []string{"172.16.2.0/26"}
	checkErrors(t, update(upd, n), []string{`spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid`})
}

func TestConfigMap(t *testing.T) {
	tests := []struct {
		name string
		cm   *corev1.ConfigMap
		want []string
	}{
		{"valid", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"nginx.conf": "x", "KEY_1": "y"}}, nil},
		{"bad keys", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"b key": "", "a/key": ""}}, []string{
			`data[a/key]: Invalid value: "a/key": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
			`data[b key]: Invalid value: "b key": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
		}},
		{"key in both", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"k": ""}, BinaryData: map[string][]byte{"k": nil}},
			[]string{`data[k]: Invalid value: "k": duplicate of key present in binaryData`}},
		{"dot-dot key", &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"..data": ""}},
			[]string{`data[..data]: Invalid value: "..data": must not start with '..'`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.cm), tc.want)
		})
	}

	yes := true
	old := mustCreate(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"k": "v"}, Immutable: &yes})
	upd := old.DeepCopy()
	upd.Data["k"] = "w"
	checkErrors(t, update(upd, old), []string{"data: Forbidden: field is immutable when `immutable` is set"})
}

func TestSecret(t *testing.T) {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "default"}, StringData: map[string]string{"password": "hunter2"}}
	if errs := create(s); len(errs) != 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	if s.Type != corev1.SecretTypeOpaque || string(s.Data["password"]) != "hunter2" || s.StringData != nil {
		t.Errorf("type %q data %v stringData %v", s.Type, s.Data, s.StringData)
	}

	tests := []struct {
		name   string
		secret *corev1.Secret
		want   []string
	}{
		{"tls without keys", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: "default"}, Type: corev1.SecretTypeTLS},
			[]string{"data[tls.crt]: Required value", "data[tls.key]: Required value"}},
		{"bad dockerconfigjson", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "pull", Namespace: "default"}, Type: corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{".dockerconfigjson": []byte("{")}},
			[]string{`data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": unexpected end of JSON input`}},
		{"bad key", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"}, Data: map[string][]byte{"a:b": nil}},
			[]string{`data[a:b]: Invalid value: "a:b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.secret), tc.want)
		})
	}

	s.ResourceVersion = "1"
	upd := s.DeepCopy()
	upd.Type = corev1.SecretTypeBasicAuth
	checkErrors(t, update(upd, s), []string{`type: Invalid value: "kubernetes.io/basic-auth": field is immutable`})
}

func TestServiceAccount(t *testing.T) {
	checkErrors(t, create(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "builder", Namespace: "default"}}), nil)
	checkErrors(t, create(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "Builder", Namespace: "default"}}),
		[]string{`metadata.name: Invalid value: "Builder": ` + dns1123SubdomainMsg})
}

func TestEvent(t *testing.T) {
	newEvent := func(mut func(*corev1.Event)) *corev1.Event {
		e := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: "web.17f", Namespace: "default"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", Namespace: "default"},
			Reason:         "Scheduled",
		}
		if mut != nil {
			mut(e)
		}
		return e
	}
	tests := []struct {
		name  string
		event *corev1.Event
		want  []string
	}{
		{"valid", newEvent(nil), nil},
		{"namespace mismatch", newEvent(func(e *corev1.Event) { e.InvolvedObject.Namespace = "other" }),
			[]string{`involvedObject.namespace: Invalid value: "other": does not match event.namespace`}},
		{"new-style event without reporter", newEvent(func(e *corev1.Event) {
			e.EventTime = metav1.NewMicroTime(time.Unix(1700000000, 0))
			e.Action = "Binding"
		}), []string{
			"reportingController: Required value",
			`reportingController: Invalid value: "": name part must be non-empty`,
			`reportingController: Invalid value: "": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
			"reportingInstance: Required value",
		}},
		{"no name", newEvent(func(e *corev1.Event) { e.Name = "" }),
			[]string{"metadata.name: Required value: name or generateName is required"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.event), tc.want)
		})
	}
}

func TestUnknownAndMismatchedObjects(t *testing.T) {
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "Data", Namespace: "default"}}
	checkErrors(t, create(pvc), []string{`metadata.name: Invalid value: "Data": ` + dns1123SubdomainMsg})

	// Nothing panics on nil or typed-nil objects.
	var nilPod *corev1.Pod
	Default(nil)
	Default(nilPod)
	PrepareForCreate(nilPod)
	PrepareForUpdate(nilPod, nil)
	if errs := ValidateCreate(nilPod); errs != nil {
		t.Errorf("typed nil create: %v", errs)
	}
	if errs := ValidateUpdate(nil, nil); errs != nil {
		t.Errorf("nil update: %v", errs)
	}
	checkErrors(t, ValidateUpdate(newPod(nil), newService(nil)),
		[]string{"metadata: Internal error: validation: stored object is *v1.Service, not *v1.Pod"})
	checkErrors(t, ValidateUpdate(newPod(nil), nilPod),
		[]string{"metadata: Internal error: validation: no stored object to update"})

	var list field.ErrorList = ValidateCreate(&metav1.Status{})
	if len(list) != 0 {
		t.Errorf("an object without metadata got errors: %v", list)
	}
}
