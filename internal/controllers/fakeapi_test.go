package controllers

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fakeAPI is the fake clientset with reactors that make its object tracker
// behave like kube-apiserver where the controllers depend on it: objects get
// a UID, creation timestamp and generation (bumped on spec changes); a
// request without a name is refused (no generateName); the status
// subresource only writes status (plus annotations for Deployments) and the
// main resource never writes status; deletion honours finalizers and the
// foreground/orphan propagation policies; pods/binding sets spec.nodeName;
// namespaces become Terminating on delete and go away once
// namespaces/finalize empties spec.finalizers.
type fakeAPI struct {
	*fake.Clientset
	mu  sync.Mutex
	seq int
}

// newFakeAPI returns a fakeAPI holding objs.
func newFakeAPI(t *testing.T, objs ...runtime.Object) *fakeAPI {
	t.Helper()
	f := &fakeAPI{Clientset: fake.NewSimpleClientset()}
	f.PrependReactor("create", "*", f.create)
	f.PrependReactor("update", "*", f.update)
	f.PrependReactor("delete", "*", f.delete)
	for _, o := range objs {
		o = o.DeepCopyObject()
		m, _ := meta.Accessor(o)
		f.stamp(m)
		if err := f.Tracker().Add(o); err != nil {
			t.Fatalf("seed %T %s: %v", o, m.GetName(), err)
		}
	}
	return f
}

// stamp fills in what the server sets on create.
func (f *fakeAPI) stamp(m metav1.Object) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	if m.GetUID() == "" {
		m.SetUID(types.UID(fmt.Sprintf("uid-%d", f.seq)))
	}
	if ts := m.GetCreationTimestamp(); ts.IsZero() {
		// Distinct, increasing timestamps keep "newest" orderings stable.
		m.SetCreationTimestamp(metav1.NewTime(time.Unix(1_700_000_000+int64(f.seq), 0)))
	}
	if m.GetGeneration() == 0 {
		m.SetGeneration(1)
	}
}

// create handles creates, pods/binding and namespaces/finalize.
func (f *fakeAPI) create(action k8stesting.Action) (bool, runtime.Object, error) {
	a := action.(k8stesting.CreateAction)
	gvr, ns := a.GetResource(), a.GetNamespace()
	switch a.GetSubresource() {
	case "":
	case "binding":
		b := a.GetObject().(*v1.Binding)
		return true, b, f.bind(ns, b)
	case "finalize":
		obj, err := f.finalize(a.GetObject().(*v1.Namespace))
		return true, obj, err
	default:
		return false, nil, nil
	}
	obj := a.GetObject().DeepCopyObject()
	m, err := meta.Accessor(obj)
	if err != nil {
		return true, nil, err
	}
	if m.GetName() == "" {
		return true, nil, apierrors.NewBadRequest("kin controllers must set explicit names")
	}
	f.stamp(m)
	if n, ok := obj.(*v1.Namespace); ok {
		n.Status.Phase = v1.NamespaceActive
		if len(n.Spec.Finalizers) == 0 {
			n.Spec.Finalizers = []v1.FinalizerName{v1.FinalizerKubernetes}
		}
	}
	if err := f.Tracker().Create(gvr, obj, ns); err != nil {
		return true, nil, err
	}
	got, err := f.Tracker().Get(gvr, ns, m.GetName())
	return true, got, err
}

// field returns a struct field of a typed object, or an invalid value.
func field(obj runtime.Object, name string) reflect.Value {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.Elem().FieldByName(name)
}

// update handles updates of the main resource and of status.
func (f *fakeAPI) update(action k8stesting.Action) (bool, runtime.Object, error) {
	a := action.(k8stesting.UpdateAction)
	gvr, ns := a.GetResource(), a.GetNamespace()
	in := a.GetObject().DeepCopyObject()
	im, _ := meta.Accessor(in)
	stored, err := f.Tracker().Get(gvr, ns, im.GetName())
	if err != nil {
		return true, nil, err
	}
	sm, _ := meta.Accessor(stored)
	if im.GetUID() != "" && im.GetUID() != sm.GetUID() {
		return true, nil, apierrors.NewConflict(gvr.GroupResource(), im.GetName(), fmt.Errorf("uid mismatch"))
	}
	var next runtime.Object
	switch a.GetSubresource() {
	case "status":
		next = stored.DeepCopyObject()
		if s := field(next, "Status"); s.IsValid() {
			s.Set(field(in, "Status"))
		}
		if _, ok := next.(*appsv1.Deployment); ok {
			nm, _ := meta.Accessor(next)
			nm.SetAnnotations(im.GetAnnotations())
		}
	case "":
		next = in
		nm, _ := meta.Accessor(next)
		if s := field(next, "Status"); s.IsValid() {
			s.Set(field(stored, "Status"))
		}
		if _, ok := next.(*v1.Namespace); ok {
			field(next, "Spec").Set(field(stored, "Spec"))
		}
		nm.SetUID(sm.GetUID())
		nm.SetCreationTimestamp(sm.GetCreationTimestamp())
		nm.SetDeletionTimestamp(sm.GetDeletionTimestamp())
		nm.SetGeneration(sm.GetGeneration())
		if sp := field(next, "Spec"); sp.IsValid() && !equality.Semantic.DeepEqual(sp.Interface(), field(stored, "Spec").Interface()) {
			nm.SetGeneration(sm.GetGeneration() + 1)
		}
	default:
		return false, nil, nil
	}
	nm, _ := meta.Accessor(next)
	if nm.GetDeletionTimestamp() != nil && len(nm.GetFinalizers()) == 0 {
		return true, next, f.Tracker().Delete(gvr, ns, nm.GetName())
	}
	if err := f.Tracker().Update(gvr, next, ns); err != nil {
		return true, nil, err
	}
	return true, next, nil
}

// delete handles deletes with finalizers and propagation policies.
func (f *fakeAPI) delete(action k8stesting.Action) (bool, runtime.Object, error) {
	a := action.(k8stesting.DeleteAction)
	gvr, ns, name := a.GetResource(), a.GetNamespace(), a.GetName()
	stored, err := f.Tracker().Get(gvr, ns, name)
	if err != nil {
		return true, nil, err
	}
	obj := stored.DeepCopyObject()
	m, _ := meta.Accessor(obj)
	opts := a.GetDeleteOptions()
	if opts.Preconditions != nil && opts.Preconditions.UID != nil && *opts.Preconditions.UID != m.GetUID() {
		return true, nil, apierrors.NewConflict(gvr.GroupResource(), name, fmt.Errorf("precondition failed: uid"))
	}
	if m.GetDeletionTimestamp() != nil {
		return true, nil, nil
	}
	now := metav1.Now()
	if n, ok := obj.(*v1.Namespace); ok {
		if len(n.Spec.Finalizers) == 0 && len(n.Finalizers) == 0 {
			return true, nil, f.Tracker().Delete(gvr, ns, name)
		}
		n.DeletionTimestamp = &now
		n.Status.Phase = v1.NamespaceTerminating
		return true, nil, f.Tracker().Update(gvr, n, ns)
	}
	finalizers := m.GetFinalizers()
	if p := opts.PropagationPolicy; p != nil {
		switch *p {
		case metav1.DeletePropagationForeground:
			finalizers = append(finalizers, metav1.FinalizerDeleteDependents)
		case metav1.DeletePropagationOrphan:
			finalizers = append(finalizers, metav1.FinalizerOrphanDependents)
		}
	}
	if len(finalizers) == 0 {
		return true, nil, f.Tracker().Delete(gvr, ns, name)
	}
	m.SetFinalizers(finalizers)
	m.SetDeletionTimestamp(&now)
	return true, nil, f.Tracker().Update(gvr, obj, ns)
}

// bind emulates the pods/binding subresource.
func (f *fakeAPI) bind(ns string, b *v1.Binding) error {
	gvr := v1.SchemeGroupVersion.WithResource("pods")
	obj, err := f.Tracker().Get(gvr, ns, b.Name)
	if err != nil {
		return err
	}
	pod := obj.(*v1.Pod).DeepCopy()
	if pod.Spec.NodeName != "" {
		return apierrors.NewConflict(gvr.GroupResource(), b.Name, fmt.Errorf("pod %s is already assigned to node %q", b.Name, pod.Spec.NodeName))
	}
	pod.Spec.NodeName = b.Target.Name
	pod.Status.Conditions = append(pod.Status.Conditions, v1.PodCondition{Type: v1.PodScheduled, Status: v1.ConditionTrue})
	return f.Tracker().Update(gvr, pod, ns)
}

// finalize emulates namespaces/finalize.
func (f *fakeAPI) finalize(in *v1.Namespace) (runtime.Object, error) {
	gvr := v1.SchemeGroupVersion.WithResource("namespaces")
	obj, err := f.Tracker().Get(gvr, "", in.Name)
	if err != nil {
		return nil, err
	}
	n := obj.(*v1.Namespace).DeepCopy()
	n.Spec.Finalizers = in.Spec.Finalizers
	if n.DeletionTimestamp != nil && len(n.Spec.Finalizers) == 0 && len(n.Finalizers) == 0 {
		return n, f.Tracker().Delete(gvr, "", n.Name)
	}
	return n, f.Tracker().Update(gvr, n, "")
}

// eventLog is a hand-written record.EventRecorder that keeps every event
// as "<type> <reason> <message>".
type eventLog struct {
	mu     sync.Mutex
	events []string
}

// Event records an event.
func (e *eventLog) Event(_ runtime.Object, eventtype, reason, message string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, eventtype+" "+reason+" "+message)
}

// Eventf records a formatted event.
func (e *eventLog) Eventf(obj runtime.Object, eventtype, reason, format string, args ...any) {
	e.Event(obj, eventtype, reason, fmt.Sprintf(format, args...))
}

// AnnotatedEventf records a formatted event, ignoring annotations.
func (e *eventLog) AnnotatedEventf(obj runtime.Object, _ map[string]string, eventtype, reason, format string, args ...any) {
	e.Event(obj, eventtype, reason, fmt.Sprintf(format, args...))
}

// matching returns the events containing substr.
func (e *eventLog) matching(substr string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events {
		if strings.Contains(ev, substr) {
			out = append(out, ev)
		}
	}
	return out
}

// harness runs controllers against a fakeAPI for one test.
type harness struct {
	t       *testing.T
	api     *fakeAPI
	factory informers.SharedInformerFactory
	events  *eventLog
	ctx     context.Context
	wg      sync.WaitGroup
}

// newHarness returns a harness over objs; everything it starts stops when
// the test ends.
func newHarness(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	api := newFakeAPI(t, objs...)
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, api: api, factory: informers.NewSharedInformerFactory(api, 0), events: &eventLog{}, ctx: ctx}
	t.Cleanup(func() {
		cancel()
		h.wg.Wait()
		h.factory.Shutdown()
	})
	return h
}

// start runs controllers in the background.
func (h *harness) start(cs ...starter) {
	for _, c := range cs {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			if err := c.Run(h.ctx, 2); err != nil {
				h.t.Errorf("controller stopped: %v", err)
			}
		}()
	}
}

// eventually polls cond until it holds, failing the test after 10s with
// cond's last explanation.
func (h *harness) eventually(what string, cond func() (bool, string)) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s: %s", what, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pods lists the pods of a namespace from the API.
func (h *harness) pods(ns string) []v1.Pod {
	h.t.Helper()
	l, err := h.api.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		h.t.Fatalf("list pods: %v", err)
	}
	return l.Items
}

// replicaSets lists the ReplicaSets of a namespace from the API.
func (h *harness) replicaSets(ns string) []appsv1.ReplicaSet {
	h.t.Helper()
	l, err := h.api.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		h.t.Fatalf("list replicasets: %v", err)
	}
	return l.Items
}

// setPodsReady marks every pod of ns that is not ready yet as Running and
// Ready, as a kubelet would; it returns how many it changed.
func (h *harness) setPodsReady(ns string, filter func(*v1.Pod) bool) int {
	h.t.Helper()
	n := 0
	for _, p := range h.pods(ns) {
		if isPodReady(&p) || p.DeletionTimestamp != nil || (filter != nil && !filter(&p)) {
			continue
		}
		p.Status.Phase = v1.PodRunning
		p.Status.Conditions = append(p.Status.Conditions, v1.PodCondition{
			Type: v1.PodReady, Status: v1.ConditionTrue, LastTransitionTime: metav1.NewTime(time.Now().Add(-time.Minute)),
		})
		if _, err := h.api.CoreV1().Pods(ns).UpdateStatus(context.Background(), &p, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			h.t.Fatalf("update pod status: %v", err)
		}
		n++
	}
	return n
}

// TestFakeAPIEmulation checks the emulation the controller tests rely on.
func TestFakeAPIEmulation(t *testing.T) {
	ctx := context.Background()
	api := newFakeAPI(t)
	if _, err := api.CoreV1().Pods("default").Create(ctx, &v1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: "x-", Namespace: "default"}}, metav1.CreateOptions{}); err == nil {
		t.Fatal("create without a name succeeded; the fake must refuse generateName")
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs", Namespace: "default"}, Spec: appsv1.ReplicaSetSpec{Replicas: ptrTo[int32](1)}}
	got, err := api.AppsV1().ReplicaSets("default").Create(ctx, rs, metav1.CreateOptions{})
	if err != nil || got.UID == "" || got.Generation != 1 {
		t.Fatalf("create: %v %+v", err, got.ObjectMeta)
	}
	got.Spec.Replicas = ptrTo[int32](2)
	got.Status.Replicas = 7
	got, _ = api.AppsV1().ReplicaSets("default").Update(ctx, got, metav1.UpdateOptions{})
	if got.Generation != 2 || got.Status.Replicas != 0 {
		t.Fatalf("update: generation %d status %d, want 2 and 0", got.Generation, got.Status.Replicas)
	}
	got.Spec.Replicas = ptrTo[int32](5)
	got.Status.Replicas = 3
	got, _ = api.AppsV1().ReplicaSets("default").UpdateStatus(ctx, got, metav1.UpdateOptions{})
	if *got.Spec.Replicas != 2 || got.Status.Replicas != 3 {
		t.Fatalf("update status: replicas %d status %d, want 2 and 3", *got.Spec.Replicas, got.Status.Replicas)
	}
	fg := metav1.DeletePropagationForeground
	if err := api.AppsV1().ReplicaSets("default").Delete(ctx, "rs", metav1.DeleteOptions{PropagationPolicy: &fg}); err != nil {
		t.Fatal(err)
	}
	got, _ = api.AppsV1().ReplicaSets("default").Get(ctx, "rs", metav1.GetOptions{})
	if got.DeletionTimestamp == nil || !hasFinalizer(got.Finalizers, metav1.FinalizerDeleteDependents) {
		t.Fatalf("foreground delete: %+v", got.ObjectMeta)
	}
	got.Finalizers = nil
	if _, err := api.AppsV1().ReplicaSets("default").Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.AppsV1().ReplicaSets("default").Get(ctx, "rs", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("object with no finalizers left should be gone, got %v", err)
	}
}
