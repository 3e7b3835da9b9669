package printers

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

var rolesGR = schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "roles"}

func TestFor(t *testing.T) {
	tests := []struct {
		gr   schema.GroupResource
		want bool
	}{
		{podsGR, true},
		{schema.GroupResource{Group: "apps", Resource: "deployments"}, true},
		{ipAddressPoolsGR, true},
		{rolesGR, false},
		{schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}, false},
		{schema.GroupResource{Group: "apps", Resource: "pods"}, false},
		{schema.GroupResource{Resource: "persistentvolumes"}, false},
	}
	for _, tt := range tests {
		if _, ok := For(tt.gr); ok != tt.want {
			t.Errorf("For(%s) ok = %v, want %v", tt.gr, ok, tt.want)
		}
	}
}

func TestTable(t *testing.T) {
	running := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "u-1", ResourceVersion: "42", CreationTimestamp: ago(time.Minute),
			Labels: map[string]string{"app": "web"}, OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-1", APIVersion: "apps/v1", UID: "u-0"}}},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{running("app", true, 0)}},
	}
	done := &corev1.Pod{
		ObjectMeta: objectMeta("job-x", "default", time.Hour),
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{terminated("app", "Completed", 0, 0)}},
	}
	table, err := Table(podsGR, []runtime.Object{running, done}, now)
	if err != nil {
		t.Fatal(err)
	}
	if table.APIVersion != "meta.k8s.io/v1" || table.Kind != "Table" {
		t.Errorf("table type %s %s, want meta.k8s.io/v1 Table", table.APIVersion, table.Kind)
	}
	p, _ := For(podsGR)
	if len(table.ColumnDefinitions) != len(p.Columns) {
		t.Fatalf("%d columns, want %d", len(table.ColumnDefinitions), len(p.Columns))
	}
	if len(table.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(table.Rows))
	}
	assertCells(t, podsGR, table.Rows[0].Cells, []interface{}{"web", "1/1", "Running", "0", "60s", "<none>", "<none>", "<none>", "<none>"})
	if len(table.Rows[0].Conditions) != 0 {
		t.Errorf("running pod has row conditions %v", table.Rows[0].Conditions)
	}
	if c := table.Rows[1].Conditions; len(c) != 1 || c[0].Type != metav1.RowCompleted || c[0].Status != metav1.ConditionTrue {
		t.Errorf("completed pod row conditions %v, want Completed=True", c)
	}

	partial, ok := table.Rows[0].Object.Object.(*metav1.PartialObjectMetadata)
	if !ok {
		t.Fatalf("row object is %T, want *metav1.PartialObjectMetadata", table.Rows[0].Object.Object)
	}
	if partial.APIVersion != "meta.k8s.io/v1" || partial.Kind != "PartialObjectMetadata" {
		t.Errorf("row object type %s %s", partial.APIVersion, partial.Kind)
	}
	if partial.Name != "web" || partial.Namespace != "default" || partial.UID != "u-1" || partial.ResourceVersion != "42" ||
		partial.Labels["app"] != "web" || len(partial.OwnerReferences) != 1 {
		t.Errorf("row object metadata %+v", partial.ObjectMeta)
	}

	// Changing the table must not change the printer.
	table.ColumnDefinitions[0].Name = "changed"
	if p, _ := For(podsGR); p.Columns[0].Name != "Name" {
		t.Error("Table shares its column definitions with the printer")
	}
}

func TestTableJSON(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: objectMeta("web", "default", time.Minute), Spec: corev1.PodSpec{NodeName: "w1-k8s"}}
	table, err := Table(podsGR, []runtime.Object{pod}, now)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(table)
	if err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Kind              string `json:"kind"`
		APIVersion        string `json:"apiVersion"`
		ColumnDefinitions []struct {
			Name     string `json:"name"`
			Priority int    `json:"priority"`
		} `json:"columnDefinitions"`
		Rows []struct {
			Cells  []interface{}          `json:"cells"`
			Object map[string]interface{} `json:"object"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatal(err)
	}
	if decoded.Kind != "Table" || decoded.APIVersion != "meta.k8s.io/v1" {
		t.Errorf("kind %q apiVersion %q", decoded.Kind, decoded.APIVersion)
	}
	if c := decoded.ColumnDefinitions[5]; c.Name != "IP" || c.Priority != 1 {
		t.Errorf("column 5 %+v, want IP priority 1", c)
	}
	obj := decoded.Rows[0].Object
	if obj["kind"] != "PartialObjectMetadata" || obj["apiVersion"] != "meta.k8s.io/v1" {
		t.Errorf("row object %v", obj)
	}
	if _, ok := obj["spec"]; ok {
		t.Errorf("row object carries the spec: %v", obj)
	}
	if md, _ := obj["metadata"].(map[string]interface{}); md["name"] != "web" {
		t.Errorf("row object metadata %v", obj["metadata"])
	}
	if got := decoded.Rows[0].Cells[6]; got != "w1-k8s" {
		t.Errorf("NODE cell %v", got)
	}
}

func TestTableEmpty(t *testing.T) {
	tests := []struct {
		gr       schema.GroupResource
		wantRows string
	}{
		{podsGR, `"rows":[]`},
		{ipAddressPoolsGR, `"rows":[]`},
		{rolesGR, `"rows":null`},
	}
	for _, tt := range tests {
		table, err := Table(tt.gr, nil, now)
		if err != nil {
			t.Fatalf("%s: %v", tt.gr, err)
		}
		data, err := json.Marshal(table)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), tt.wantRows) {
			t.Errorf("%s: %s, want %s", tt.gr, data, tt.wantRows)
		}
		if len(table.ColumnDefinitions) == 0 {
			t.Errorf("%s: empty table has no columns", tt.gr)
		}
	}
}

func TestDefaultTable(t *testing.T) {
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "pod-reader", Namespace: "default",
		CreationTimestamp: metav1.NewTime(time.Date(2024, 6, 1, 20, 30, 0, 0, time.FixedZone("KST", 9*3600)))}}
	table, err := Table(rolesGR, []runtime.Object{role}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: objectMetaDoc["name"]},
		{Name: "Created At", Type: "date", Description: objectMetaDoc["creationTimestamp"]},
	}
	if len(table.ColumnDefinitions) != 2 || table.ColumnDefinitions[0] != want[0] || table.ColumnDefinitions[1] != want[1] {
		t.Errorf("columns %+v, want %+v", table.ColumnDefinitions, want)
	}
	if got := table.Rows[0].Cells; len(got) != 2 || got[0] != "pod-reader" || got[1] != "2024-06-01T11:30:00Z" {
		t.Errorf("cells %v, want [pod-reader 2024-06-01T11:30:00Z]", got)
	}
	if _, ok := table.Rows[0].Object.Object.(*metav1.PartialObjectMetadata); !ok {
		t.Errorf("row object %T", table.Rows[0].Object.Object)
	}

	wantOut := lines(
		"NAME         CREATED AT",
		"pod-reader   2024-06-01T11:30:00Z",
	)
	if got := kubectlGet(t, rolesGR, false, role); got != wantOut {
		t.Errorf("kubectl get roles:\n%s\nwant:\n%s", got, wantOut)
	}
}

func TestTypedPrintersAcceptUnstructured(t *testing.T) {
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: objectMeta("web", "default", 5*time.Minute),
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: podTemplate(nil, "nginx=nginx")},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3},
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(d)
	if err != nil {
		t.Fatal(err)
	}
	gr := schema.GroupResource{Group: "apps", Resource: "deployments"}
	want := []interface{}{"web", "3/3", int64(3), int64(3), "5m", "nginx", "nginx", "app=web"}
	assertCells(t, gr, row(t, gr, d), want)
	assertCells(t, gr, row(t, gr, &unstructured.Unstructured{Object: content}), want)
}

func TestTableErrors(t *testing.T) {
	tests := []struct {
		name string
		gr   schema.GroupResource
		obj  runtime.Object
		want string
	}{
		{"wrong type", podsGR, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}}, "unexpected object type *v1.Service"},
		{"no metadata", podsGR, &runtime.Unknown{}, "has no metadata"},
		{"bad unstructured", podsGR, &unstructured.Unstructured{Object: map[string]interface{}{
			"kind": "Pod", "metadata": map[string]interface{}{"name": "web"}, "spec": "not an object"}}, `convert Pod "web"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Table(tt.gr, []runtime.Object{tt.obj}, now)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "printers: pods: ") {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestTableRowChecksCellCount(t *testing.T) {
	p := Printer{
		Columns: []metav1.TableColumnDefinition{nameColumn, ageColumn},
		Row:     func(runtime.Object, time.Time) ([]interface{}, error) { return []interface{}{"only"}, nil },
	}
	_, err := tableRow(p, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}}, now)
	if err == nil || !strings.Contains(err.Error(), "1 cells for 2 columns") {
		t.Errorf("error %v, want a cell count mismatch", err)
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		t    metav1.Time
		want string
	}{
		{metav1.Time{}, "<unknown>"},
		{ago(0), "0s"},
		{ago(59 * time.Second), "59s"},
		{ago(5*time.Minute + 1*time.Second), "5m1s"},
		{ago(3*time.Hour + 16*time.Minute), "3h16m"},
		{ago(7*time.Hour + 13*time.Minute), "7h13m"},
		{ago(30 * time.Hour), "30h"},
		{ago(49 * time.Hour), "2d1h"},
		{ago(400 * 24 * time.Hour), "400d"},
		{ago(3 * 365 * 24 * time.Hour), "3y"},
	}
	for _, tt := range tests {
		if got := age(tt.t, now); got != tt.want {
			t.Errorf("age(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}
