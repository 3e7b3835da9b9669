package validation

import (
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestLease(t *testing.T) {
	d := int32(40)
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "w1-k8s", Namespace: "kube-node-lease"}, Spec: coordinationv1.LeaseSpec{LeaseDurationSeconds: &d}}
	checkErrors(t, create(l), nil)

	zero := int32(0)
	bad := l.DeepCopy()
	bad.Spec.LeaseDurationSeconds = &zero
	checkErrors(t, create(bad), []string{"spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"})

	strategy := coordinationv1.CoordinatedLeaseStrategy("Newest")
	bad = l.DeepCopy()
	bad.Spec.Strategy = &strategy
	checkErrors(t, create(bad), []string{`spec.strategy.strategy: Unsupported value: "Newest": supported values: "OldestEmulationVersion"`})

	l.ResourceVersion = "1"
	renewed := l.DeepCopy()
	renewed.Spec.RenewTime = &metav1.MicroTime{}
	checkErrors(t, update(renewed, l), nil)
}

func TestScale(t *testing.T) {
	s := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: autoscalingv1.ScaleSpec{Replicas: 3}}
	checkErrors(t, create(s), nil)
	s.Spec.Replicas = -1
	checkErrors(t, create(s), []string{"spec.replicas: Invalid value: -1: must be greater than or equal to 0"})
}

func TestRBAC(t *testing.T) {
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-reader", Namespace: "default"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}},
	}
	checkErrors(t, create(role), nil)
	checkErrors(t, create(&rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "a/b", Namespace: "default"},
		Rules:      []rbacv1.PolicyRule{{Resources: []string{"pods"}}},
	}), []string{
		`metadata.name: Invalid value: "a/b": may not contain '/'`,
		"rules[0].verbs: Required value: verbs must contain at least one value",
		"rules[0].apiGroups: Required value: resource rules must supply at least one api group",
	})
	checkErrors(t, create(&rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "urls", Namespace: "default"},
		Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/healthz"}, Verbs: []string{"get"}}},
	}), []string{`rules[0].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs`})

	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "read-pods", Namespace: "default"},
		RoleRef:    rbacv1.RoleRef{Kind: "Role", Name: "pod-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: "jane"}, {Kind: "ServiceAccount", Name: "default"}},
	}
	checkErrors(t, create(rb), nil)
	if rb.RoleRef.APIGroup != rbacv1.GroupName || rb.Subjects[0].APIGroup != rbacv1.GroupName || rb.Subjects[1].APIGroup != "" {
		t.Errorf("defaults: roleRef %+v subjects %+v", rb.RoleRef, rb.Subjects)
	}

	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "admins"},
		RoleRef:    rbacv1.RoleRef{Kind: "Role", Name: "admin"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "ci"}, {Kind: "Robot", Name: "r2"}},
	}
	checkErrors(t, create(crb), []string{
		`roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"`,
		"subjects[0].namespace: Required value",
		`subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"`,
	})

	rb.ResourceVersion = "1"
	upd := rb.DeepCopy()
	upd.RoleRef.Name = "admin"
	checkErrors(t, update(upd, rb), []string{`roleRef: Invalid value: {"APIGroup":"rbac.authorization.k8s.io","Kind":"Role","Name":"admin"}: cannot change roleRef`})

	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "view-urls"}, Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}
	checkErrors(t, create(cr), nil)
}

func TestUpdatesOfOtherKinds(t *testing.T) {
	crb := mustCreate(t, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "admins"},
		RoleRef:    rbacv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: "Group", Name: "ops"}},
	})
	upd := crb.DeepCopy()
	upd.Subjects = append(upd.Subjects, rbacv1.Subject{Kind: "User", Name: "jane"})
	checkErrors(t, update(upd, crb), nil)
	upd.RoleRef.Name = "view"
	checkErrors(t, update(upd, crb), []string{`roleRef: Invalid value: {"APIGroup":"rbac.authorization.k8s.io","Kind":"ClusterRole","Name":"view"}: cannot change roleRef`})

	ep := mustCreate(t, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}})
	moved := ep.DeepCopy()
	moved.Namespace = "other"
	checkErrors(t, update(moved, ep), []string{`metadata.namespace: Invalid value: "other": field is immutable`})

	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data", Namespace: "default", ResourceVersion: "1", UID: "u1"}}
	changed := pvc.DeepCopy()
	changed.UID = "u2"
	checkErrors(t, update(changed, pvc), []string{`metadata.uid: Invalid value: "u2": field is immutable`})
}
