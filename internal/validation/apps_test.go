package validation

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// newTemplate returns a pod template labelled app=web.
func newTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}},
	}
}

// newDeployment returns a valid Deployment named web, changed by mut.
func newDeployment(mut func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: newTemplate(),
		},
	}
	if mut != nil {
		mut(d)
	}
	return d
}

func TestDeploymentDefaults(t *testing.T) {
	d := newDeployment(nil)
	Default(d)
	PrepareForCreate(d)
	s := d.Spec
	if s.Replicas == nil || *s.Replicas != 1 || s.RevisionHistoryLimit == nil || *s.RevisionHistoryLimit != 10 || s.ProgressDeadlineSeconds == nil || *s.ProgressDeadlineSeconds != 600 {
		t.Errorf("replicas %v revisionHistoryLimit %v progressDeadlineSeconds %v", s.Replicas, s.RevisionHistoryLimit, s.ProgressDeadlineSeconds)
	}
	if s.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || s.Strategy.RollingUpdate == nil ||
		*s.Strategy.RollingUpdate.MaxUnavailable != intstr.FromString("25%") || *s.Strategy.RollingUpdate.MaxSurge != intstr.FromString("25%") {
		t.Errorf("strategy = %+v", s.Strategy)
	}
	ps := s.Template.Spec
	if ps.RestartPolicy != corev1.RestartPolicyAlways || ps.DNSPolicy != corev1.DNSClusterFirst || ps.TerminationGracePeriodSeconds == nil || ps.SecurityContext == nil {
		t.Errorf("template spec defaults: %+v", ps)
	}
	if ps.EnableServiceLinks != nil || ps.ServiceAccountName != "" || len(ps.Tolerations) != 0 || ps.Priority != nil {
		t.Errorf("template got Pod-only defaults: %+v", ps)
	}
	if ps.Containers[0].ImagePullPolicy != corev1.PullAlways || ps.Containers[0].TerminationMessagePolicy != corev1.TerminationMessageReadFile {
		t.Errorf("template container defaults: %+v", ps.Containers[0])
	}
	if d.Generation != 1 {
		t.Errorf("generation = %d, want 1", d.Generation)
	}

	recreate := newDeployment(func(d *appsv1.Deployment) { d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType })
	Default(recreate)
	if recreate.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("Recreate strategy got rollingUpdate defaults")
	}
}

func TestDeploymentValidateCreate(t *testing.T) {
	tests := []struct {
		name string
		d    *appsv1.Deployment
		want []string
	}{
		{"valid", newDeployment(nil), nil},
		{"selector does not match", newDeployment(func(d *appsv1.Deployment) {
			d.Spec.Selector.MatchLabels = map[string]string{"app": "api"}
		}), []string{"spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`"}},
		{"no selector", newDeployment(func(d *appsv1.Deployment) { d.Spec.Selector = nil }), []string{
			"spec.selector: Required value",
			"spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`",
		}},
		{"empty selector", newDeployment(func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }),
			[]string{"spec.selector: Invalid value: {}: empty selector is invalid for deployment"}},
		{"bad selector operator", newDeployment(func(d *appsv1.Deployment) {
			d.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Has"}}
		}), []string{
			`spec.selector.matchExpressions[0].operator: Invalid value: "Has": not a valid selector operator`,
			`spec.selector: Invalid value: {"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"Has"}]}: invalid label selector`,
		}},
		{"negative replicas", newDeployment(func(d *appsv1.Deployment) {
			r := int32(-1)
			d.Spec.Replicas = &r
		}), []string{"spec.replicas: Invalid value: -1: must be greater than or equal to 0"}},
		{"no containers", newDeployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers = nil }),
			[]string{"spec.template.spec.containers: Required value"}},
		{"unknown strategy", newDeployment(func(d *appsv1.Deployment) { d.Spec.Strategy.Type = "BlueGreen" }),
			[]string{`spec.strategy: Unsupported value: {"Type":"BlueGreen","RollingUpdate":null}: supported values: "Recreate", "RollingUpdate"`}},
		{"unknown strategy with parameters", newDeployment(func(d *appsv1.Deployment) {
			surge := intstr.FromInt32(1)
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: "BlueGreen", RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge}}
		}), []string{`spec.strategy: Unsupported value: {"Type":"BlueGreen","RollingUpdate":{"MaxUnavailable":0,"MaxSurge":1}}: supported values: "Recreate", "RollingUpdate"`}},
		{"Recreate with rollingUpdate", newDeployment(func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{}}
		}), []string{"spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"}},
		{"zero surge and unavailable", newDeployment(func(d *appsv1.Deployment) {
			zero := intstr.FromInt32(0)
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: &zero, MaxSurge: &zero}
		}), []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"}},
		{"maxSurge not a percent", newDeployment(func(d *appsv1.Deployment) {
			surge := intstr.FromString("30")
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &surge}
		}), []string{`spec.strategy.rollingUpdate.maxSurge: Invalid value: "30": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`}},
		{"maxUnavailable over 100%", newDeployment(func(d *appsv1.Deployment) {
			v := intstr.FromString("150%")
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: &v}
		}), []string{`spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%`}},
		{"template restartPolicy Never", newDeployment(func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever }),
			[]string{`spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`}},
		{"progress deadline not above minReadySeconds", newDeployment(func(d *appsv1.Deployment) {
			d.Spec.MinReadySeconds = 600
		}), []string{"spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds"}},
		{"bad template container", newDeployment(func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, Protocol: "HTTP"}}
		}), []string{`spec.template.spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.d), tc.want)
		})
	}
}

func TestDeploymentUpdate(t *testing.T) {
	old := mustCreate(t, newDeployment(nil))

	scaled := old.DeepCopy()
	r := int32(3)
	scaled.Spec.Replicas = &r
	scaled.Status = appsv1.DeploymentStatus{}
	old.Status.ReadyReplicas = 1
	if errs := update(scaled, old); len(errs) != 0 {
		t.Fatalf("scale: unexpected errors: %v", errs)
	}
	if scaled.Generation != 2 || scaled.Status.ReadyReplicas != 1 {
		t.Errorf("generation %d readyReplicas %d, want 2 and status kept", scaled.Generation, scaled.Status.ReadyReplicas)
	}

	relabeled := old.DeepCopy()
	relabeled.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web2"}}
	relabeled.Spec.Template.Labels = map[string]string{"app": "web2"}
	checkErrors(t, update(relabeled, old), []string{`spec.selector: Invalid value: {"matchLabels":{"app":"web2"}}: field is immutable`})

	same := old.DeepCopy()
	same.Annotations = map[string]string{"note": "x"}
	if errs := update(same, old); len(errs) != 0 || same.Generation != 2 {
		t.Errorf("annotation change: errors %v generation %d, want none and 2", errs, same.Generation)
	}
}

func TestReplicaSet(t *testing.T) {
	newRS := func(mut func(*appsv1.ReplicaSet)) *appsv1.ReplicaSet {
		rs := &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "web-5d4f", Namespace: "default"},
			Spec: appsv1.ReplicaSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: newTemplate(),
			},
		}
		if mut != nil {
			mut(rs)
		}
		return rs
	}
	rs := newRS(nil)
	checkErrors(t, create(rs), nil)
	if rs.Spec.Replicas == nil || *rs.Spec.Replicas != 1 {
		t.Errorf("replicas = %v, want 1", rs.Spec.Replicas)
	}
	checkErrors(t, create(newRS(func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Labels = nil })),
		[]string{"spec.template.metadata.labels: Invalid value: null: `selector` does not match template `labels`"})
	checkErrors(t, create(newRS(func(rs *appsv1.ReplicaSet) {
		ads := int64(30)
		rs.Spec.Template.Spec.ActiveDeadlineSeconds = &ads
	})), []string{"spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"})

	rs.ResourceVersion = "1"
	upd := rs.DeepCopy()
	upd.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "v": "2"}}
	upd.Spec.Template.Labels = map[string]string{"app": "web", "v": "2"}
	checkErrors(t, update(upd, rs), []string{`spec.selector: Invalid value: {"matchLabels":{"app":"web","v":"2"}}: field is immutable`})
}

func TestDaemonSet(t *testing.T) {
	newDS := func(mut func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
		ds := &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "kube-system"},
			Spec: appsv1.DaemonSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: newTemplate(),
			},
		}
		if mut != nil {
			mut(ds)
		}
		return ds
	}
	ds := newDS(nil)
	checkErrors(t, create(ds), nil)
	us := ds.Spec.UpdateStrategy
	if us.Type != appsv1.RollingUpdateDaemonSetStrategyType || *us.RollingUpdate.MaxUnavailable != intstr.FromInt32(1) || *us.RollingUpdate.MaxSurge != intstr.FromInt32(0) {
		t.Errorf("update strategy = %+v", us)
	}
	if *ds.Spec.RevisionHistoryLimit != 10 || ds.Annotations["deprecated.daemonset.template.generation"] != "1" {
		t.Errorf("revisionHistoryLimit %d annotations %v", *ds.Spec.RevisionHistoryLimit, ds.Annotations)
	}

	tests := []struct {
		name string
		ds   *appsv1.DaemonSet
		want []string
	}{
		{"surge and unavailable", newDS(func(ds *appsv1.DaemonSet) {
			one := intstr.FromInt32(1)
			ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &one, MaxSurge: &one}
		}), []string{"spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set when maxUnavailable is non-zero"}},
		{"unknown strategy", newDS(func(ds *appsv1.DaemonSet) { ds.Spec.UpdateStrategy.Type = "Blue" }),
			[]string{`spec.updateStrategy: Unsupported value: {"Type":"Blue","RollingUpdate":null}: supported values: "RollingUpdate", "OnDelete"`}},
		{"selector does not match", newDS(func(ds *appsv1.DaemonSet) { ds.Spec.Selector.MatchLabels["app"] = "x" }),
			[]string{"spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.ds), tc.want)
		})
	}

	ds.ResourceVersion = "1"
	upd := ds.DeepCopy()
	upd.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	checkErrors(t, update(upd, ds), nil)
	if upd.Annotations["deprecated.daemonset.template.generation"] != "2" || upd.Generation != 2 {
		t.Errorf("template generation %q generation %d after a template change", upd.Annotations["deprecated.daemonset.template.generation"], upd.Generation)
	}
}
