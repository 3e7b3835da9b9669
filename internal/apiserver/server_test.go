package apiserver

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"kin/internal/store"
)

// testServer is an API server on a loopback port with a fresh store.
type testServer struct {
	url    string
	client *kubernetes.Clientset
	store  *store.Store
	cancel context.CancelFunc
	done   chan struct{}
}

func startTestServer(t *testing.T, dir string) *testServer {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "store.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Store: st, Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{url: "http://" + ln.Addr().String(), store: st, cancel: cancel, done: make(chan struct{})}
	go func() { srv.Run(ctx); close(ts.done) }()
	ts.client = kubernetes.NewForConfigOrDie(&rest.Config{Host: ts.url, QPS: 1000, Burst: 1000})
	for _, ns := range []string{"default", "kube-system"} {
		if _, err := ts.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	if ts.cancel == nil {
		return
	}
	ts.cancel()
	<-ts.done
	ts.store.Close()
	ts.cancel = nil
}

func TestConfigMapCRUD(t *testing.T) {
	ts := startTestServer(t, t.TempDir())
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	cm, err := cms.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "one", Labels: map[string]string{"app": "a"}},
		Data:       map[string]string{"k": "v"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.UID == "" || cm.ResourceVersion == "" || cm.CreationTimestamp.IsZero() || cm.Namespace != "default" {
		t.Fatalf("server-set metadata missing: %+v", cm.ObjectMeta)
	}
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "one"}}, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("duplicate create: want AlreadyExists, got %v", err)
	}
	gen, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "gen-"}}, metav1.CreateOptions{})
	if err != nil || !strings.HasPrefix(gen.Name, "gen-") || len(gen.Name) != len("gen-")+5 {
		t.Fatalf("generateName: %v %q", err, gen.Name)
	}
	list, err := cms.List(ctx, metav1.ListOptions{LabelSelector: "app=a"})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "one" {
		t.Fatalf("label selector list: %v %+v", err, list)
	}
	list, err = cms.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + gen.Name})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("field selector list: %v %d", err, len(list.Items))
	}
	// A stale resourceVersion is a conflict.
	stale := cm.DeepCopy()
	cm.Data["k"] = "v2"
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stale.Data["k"] = "v3"
	if _, err := cms.Update(ctx, stale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("stale update: want Conflict, got %v", err)
	}
	// Patches of each kind.
	got, err := cms.Patch(ctx, "one", types.MergePatchType, []byte(`{"data":{"m":"1"}}`), metav1.PatchOptions{})
	if err != nil || got.Data["m"] != "1" || got.Data["k"] != "v2" {
		t.Fatalf("merge patch: %v %v", err, got.Data)
	}
	got, err = cms.Patch(ctx, "one", types.JSONPatchType, []byte(`[{"op":"add","path":"/data/j","value":"2"}]`), metav1.PatchOptions{})
	if err != nil || got.Data["j"] != "2" {
		t.Fatalf("json patch: %v %v", err, got.Data)
	}
	got, err = cms.Patch(ctx, "one", types.StrategicMergePatchType, []byte(`{"metadata":{"labels":{"b":"c"}}}`), metav1.PatchOptions{})
	if err != nil || got.Labels["b"] != "c" || got.Labels["app"] != "a" {
		t.Fatalf("strategic patch: %v %v", err, got.Labels)
	}
	// An update that changes nothing keeps the resourceVersion.
	same, err := cms.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil || same.ResourceVersion != got.ResourceVersion {
		t.Fatalf("no-op update bumped resourceVersion: %v %s -> %s", err, got.ResourceVersion, same.ResourceVersion)
	}
	if err := cms.Delete(ctx, "one", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "one", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get after delete: want NotFound, got %v", err)
	}
}

func TestCreateInMissingNamespaceIsNotFound(t *testing.T) {
	ts := startTestServer(t, t.TempDir())
	_, err := ts.client.CoreV1().ConfigMaps("nope").Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), `namespaces "nope" not found`) {
		t.Fatalf("want namespaces \"nope\" not found, got %v", err)
	}
}

func TestInvalidServiceIsRefusedAndNotStored(t *testing.T) {
	ts := startTestServer(t, t.TempDir())
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 70000, TargetPort: intstr.FromInt32(80)}}},
	}
	_, err := ts.client.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("want Invalid, got %v", err)
	}
	want := `Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive`
	if err.Error() != want {
		t.Fatalf("message:\n got %s\nwant %s", err.Error(), want)
	}
	if _, err := ts.client.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("invalid service was stored: %v", err)
	}
}

func TestStatusAndScaleSubresources(t *testing.T) {
	ts := startTestServer(t, t.TempDir())
	ctx := context.Background()
	deps := ts.client.AppsV1().Deployments("default")
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}},
			},
		},
		Status: appsv1.DeploymentStatus{Replicas: 99},
	}
	d, err := deps.Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.Replicas != 0 || d.Generation != 1 || *d.Spec.Replicas != 1 {
		t.Fatalf("create: status kept or defaults missing: gen=%d status=%+v replicas=%v", d.Generation, d.Status, d.Spec.Replicas)
	}
	d.Status.Replicas = 3
	d, err = deps.UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil || d.Status.Replicas != 3 || d.Generation != 1 {
		t.Fatalf("status update: %v %+v gen=%d", err, d.Status, d.Generation)
	}
	d.Status.Replicas = 7
	d.Spec.Template.Labels["x"] = "y"
	d.Spec.Selector.MatchLabels = map[string]string{"app": "web"}
	d, err = deps.Update(ctx, d, metav1.UpdateOptions{})
	if err != nil || d.Status.Replicas != 3 || d.Generation != 2 {
		t.Fatalf("main update must keep status and bump generation: %v %+v gen=%d", err, d.Status, d.Generation)
	}
	sc, err := deps.GetScale(ctx, "web", metav1.GetOptions{})
	if err != nil || sc.Spec.Replicas != 1 || sc.Status.Selector != "app=web" {
		t.Fatalf("get scale: %v %+v", err, sc)
	}
	if _, err := deps.Patch(ctx, "web", types.MergePatchType, []byte(`{"spec":{"replicas":4}}`), metav1.PatchOptions{}, "scale"); err != nil {
		t.Fatal(err)
	}
	d, _ = deps.Get(ctx, "web", metav1.GetOptions{})
	if *d.Spec.Replicas != 4 {
		t.Fatalf("scale patch: replicas %d", *d.Spec.Replicas)
	}
}

func TestFinalizersAndGracefulPodDeletion(t *testing.T) {
	ts := startTestServer(t, t.TempDir())
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "f", Finalizers: []string{"example.com/hold"}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "f", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	cm, err = cms.Get(ctx, "f", metav1.GetOptions{})
	if err != nil || cm.DeletionTimestamp == nil {
		t.Fatalf("finalized object must stay with a deletionTimestamp: %v %+v", err, cm)
	}
	cm.Finalizers = nil
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "f", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("object must go when its last finalizer is removed: %v", err)
	}

	pods := ts.client.CoreV1().Pods("default")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Target: corev1.ObjectReference{Kind: "Node", Name: "w1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Target: corev1.ObjectReference{Kind: "Node", Name: "w2"}}, metav1.CreateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("second binding: want Conflict, got %v", err)
	}
	if err := pods.Delete(ctx, "p", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := pods.Get(ctx, "p", metav1.GetOptions{})
	if err != nil || p.DeletionTimestamp == nil || *p.DeletionGracePeriodSeconds != 30 {
		t.Fatalf("a bound pod is deleted gracefully: %v %+v", err, p)
	}
	zero := int64(0)
	if err := pods.Delete(ctx, "p", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, "p", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("grace 0 deletes at once: %v", err)
	}
}

func TestWatchResumeAndSelectors(t *testing.T) {
	ts := startTestServer(t, t.TempDir())
	ctx := context.Background()
	cms := ts.client.CoreV1().ConfigMaps("default")
	a, _ := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"w": "yes"}}}, metav1.CreateOptions{})
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: a.ResourceVersion, LabelSelector: "w=yes"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "b"}}, metav1.CreateOptions{})
	cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Labels: map[string]string{"w": "yes"}}}, metav1.CreateOptions{})
	cms.Patch(ctx, "a", types.MergePatchType, []byte(`{"metadata":{"labels":{"w":"no"}}}`), metav1.PatchOptions{})
	want := []struct {
		typ  watch.EventType
		name string
	}{{watch.Added, "c"}, {watch.Deleted, "a"}}
	for _, wnt := range want {
		select {
		case ev := <-w.ResultChan():
			cm := ev.Object.(*corev1.ConfigMap)
			if ev.Type != wnt.typ || cm.Name != wnt.name {
				t.Fatalf("got %s %s, want %s %s", ev.Type, cm.Name, wnt.typ, wnt.name)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event, want %s %s", wnt.typ, wnt.name)
		}
	}
}

func TestInformerSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ts := startTestServer(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := strings.TrimPrefix(ts.url, "http://")
	client := kubernetes.NewForConfigOrDie(&rest.Config{Host: ts.url, QPS: 1000, Burst: 1000})
	f := informers.NewSharedInformerFactory(client, 0)
	inf := f.Core().V1().ConfigMaps().Informer()
	seen := make(chan string, 100)
	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj any) { seen <- obj.(*corev1.ConfigMap).Name }})
	f.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}
	ts.client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "before"}}, metav1.CreateOptions{})
	waitFor(t, seen, "before")

	// Restart the server on the same address with the same store file.
	ts.stop()
	st, err := store.Open(filepath.Join(dir, "store.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ln net.Listener
	for i := 0; i < 100; i++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := New(Config{Store: st, Listener: ln})
	sctx, scancel := context.WithCancel(context.Background())
	defer scancel()
	go srv.Run(sctx)
	if _, err := client.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "after"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, seen, "after")
}

func waitFor(t *testing.T, seen chan string, name string) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case got := <-seen:
			if got == name {
				return
			}
		case <-deadline:
			t.Fatalf("informer never saw %q", name)
		}
	}
}

func TestTableAndDiscovery(t *testing.T) {
	ts := startTestServer(t, t.TempDir())
	req, _ := http.NewRequest("GET", ts.url+"/api/v1/namespaces", nil)
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var table metav1.Table
	json.NewDecoder(resp.Body).Decode(&table)
	if table.Kind != "Table" || len(table.ColumnDefinitions) == 0 || table.ColumnDefinitions[0].Name != "Name" || len(table.Rows) != 2 {
		t.Fatalf("table: %+v", table)
	}
	resources, err := ts.client.Discovery().ServerResourcesForGroupVersion("apps/v1")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range resources.APIResources {
		if r.Name == "deployments/scale" && r.Kind == "Scale" {
			found = true
		}
	}
	if !found {
		t.Fatalf("apps/v1 discovery lacks deployments/scale: %+v", resources.APIResources)
	}
	resp2, err := http.Get(ts.url + "/api/v1/namespaces/default/configmaps")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if !strings.Contains(string(body), `"kind":"ConfigMapList"`) {
		t.Fatalf("list body: %s", body)
	}
}
