package controllers

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// namespaceObj is a namespace as the API server stores it.
func namespaceObj(name string) *v1.Namespace {
	return &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:   v1.NamespaceSpec{Finalizers: []v1.FinalizerName{v1.FinalizerKubernetes}},
		Status: v1.NamespaceStatus{Phase: v1.NamespaceActive}}
}

func TestNamespaceBootstrapAndRecreate(t *testing.T) {
	h := newHarness(t)
	c := NewNamespaceController(h.api, h.factory, h.events)
	c.RecheckInterval = 10 * time.Millisecond
	h.start(c)
	ctx := context.Background()
	h.eventually("system namespaces", func() (bool, string) {
		for _, name := range SystemNamespaces {
			if _, err := h.api.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err != nil {
				return false, err.Error()
			}
		}
		return true, ""
	})
	if err := h.api.CoreV1().Namespaces().Delete(ctx, "kube-public", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The deletion completes (finalize), then the namespace comes back.
	h.eventually("kube-public recreated", func() (bool, string) {
		ns, err := h.api.CoreV1().Namespaces().Get(ctx, "kube-public", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return ns.DeletionTimestamp == nil, "still terminating"
	})
}

func TestNamespaceDeletionEmptiesAndFinalizes(t *testing.T) {
	const ns = "team"
	om := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: ns} }
	held := &v1.ConfigMap{ObjectMeta: om("held")}
	held.Finalizers = []string{"example.com/hold"}
	content := []runtime.Object{
		namespaceObj(ns),
		&v1.Pod{ObjectMeta: om("p")},
		&v1.Service{ObjectMeta: om("svc")},
		&v1.Endpoints{ObjectMeta: om("svc")},
		&discoveryv1.EndpointSlice{ObjectMeta: om("svc-abc"), AddressType: discoveryv1.AddressTypeIPv4},
		&appsv1.Deployment{ObjectMeta: om("d")},
		&appsv1.ReplicaSet{ObjectMeta: om("rs")},
		&appsv1.DaemonSet{ObjectMeta: om("ds")},
		&v1.ConfigMap{ObjectMeta: om("cm")},
		held,
		&v1.Secret{ObjectMeta: om("s")},
		&v1.ServiceAccount{ObjectMeta: om("default")},
		&v1.Event{ObjectMeta: om("p.1")},
		&networkingv1.Ingress{ObjectMeta: om("ing")},
		&coordinationv1.Lease{ObjectMeta: om("l")},
		&rbacv1.Role{ObjectMeta: om("r")},
		&rbacv1.RoleBinding{ObjectMeta: om("rb")},
		&v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survivor", Namespace: "other"}},
	}
	h := newHarness(t, content...)
	c := NewNamespaceController(h.api, h.factory, h.events)
	c.RecheckInterval = 10 * time.Millisecond
	h.start(c)
	ctx := context.Background()

	if err := h.api.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("everything but the held configmap deleted", func() (bool, string) {
		remaining, err := countNamespaceContent(ctx, h, ns)
		if err != nil {
			return false, err.Error()
		}
		return remaining == 1, fmt.Sprintf("%d objects left", remaining)
	})
	got, err := h.api.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("namespace finalized while an object remains: %v", err)
	}
	if got.Status.Phase != v1.NamespaceTerminating || !hasFinalizer(got.Spec.Finalizers, v1.FinalizerKubernetes) {
		t.Fatalf("namespace while emptying: phase %s finalizers %v", got.Status.Phase, got.Spec.Finalizers)
	}

	// The last object's own finalizer goes; the namespace follows.
	cm, _ := h.api.CoreV1().ConfigMaps(ns).Get(ctx, "held", metav1.GetOptions{})
	cm.Finalizers = nil
	if _, err := h.api.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("namespace gone", func() (bool, string) {
		_, err := h.api.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		return !exists(err), "namespace still there"
	})
	if _, err := h.api.CoreV1().ConfigMaps("other").Get(ctx, "survivor", metav1.GetOptions{}); err != nil {
		t.Fatalf("object in another namespace was deleted: %v", err)
	}
}

func TestNamespaceRemovedWithoutFinalizerIsSwept(t *testing.T) {
	ns := namespaceObj("quick")
	ns.Spec.Finalizers = nil // A server that does not keep the finalizer.
	h := newHarness(t, ns, &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "quick"}})
	h.start(NewNamespaceController(h.api, h.factory, h.events))
	ctx := context.Background()
	h.eventually("namespace cached", func() (bool, string) {
		_, err := h.factory.Core().V1().Namespaces().Lister().Get("quick")
		return err == nil, fmt.Sprint(err)
	})
	if err := h.api.CoreV1().Namespaces().Delete(ctx, "quick", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("content swept", func() (bool, string) {
		_, err := h.api.CoreV1().ConfigMaps("quick").Get(ctx, "cm", metav1.GetOptions{})
		return !exists(err), "configmap still there"
	})
}

// countNamespaceContent counts the objects left in ns.
func countNamespaceContent(ctx context.Context, h *harness, ns string) (int, error) {
	n := 0
	for _, r := range namespacedResources(h.api) {
		objs, err := r.list(ctx, ns)
		if err != nil {
			return 0, err
		}
		n += len(objs)
	}
	return n, nil
}

func TestServiceAccountController(t *testing.T) {
	terminating := namespaceObj("leaving")
	terminating.Status.Phase = v1.NamespaceTerminating
	now := metav1.Now()
	terminating.DeletionTimestamp = &now
	h := newHarness(t, namespaceObj("default"), namespaceObj("team"), terminating)
	h.start(NewServiceAccountController(h.api, h.factory))
	ctx := context.Background()
	h.eventually("default service accounts", func() (bool, string) {
		for _, ns := range []string{"default", "team"} {
			if _, err := h.api.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err != nil {
				return false, ns + ": " + err.Error()
			}
		}
		return true, ""
	})
	if err := h.api.CoreV1().ServiceAccounts("team").Delete(ctx, "default", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("recreated", func() (bool, string) {
		_, err := h.api.CoreV1().ServiceAccounts("team").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})
	if _, err := h.api.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "new"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.eventually("new namespace gets one", func() (bool, string) {
		_, err := h.api.CoreV1().ServiceAccounts("new").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})
	if _, err := h.api.CoreV1().ServiceAccounts("leaving").Get(ctx, "default", metav1.GetOptions{}); exists(err) {
		t.Fatal("terminating namespace got a service account")
	}
}
