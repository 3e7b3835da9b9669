package printers

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// customResource builds an unstructured custom resource with the given spec.
func customResource(apiVersion, kind, name, namespace string, age time.Duration, spec map[string]interface{}) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]interface{}{"apiVersion": apiVersion, "kind": kind, "spec": spec}}
	u.SetName(name)
	u.SetNamespace(namespace)
	u.SetCreationTimestamp(ago(age))
	return u
}

var (
	ipAddressPoolsGR      = schema.GroupResource{Group: "metallb.io", Resource: "ipaddresspools"}
	l2AdvertisementsGR    = schema.GroupResource{Group: "metallb.io", Resource: "l2advertisements"}
	targetGroupBindingsGR = schema.GroupResource{Group: "elbv2.k8s.aws", Resource: "targetgroupbindings"}
)

func TestCustomResourceColumns(t *testing.T) {
	tests := []struct {
		gr   schema.GroupResource
		want []string
	}{
		{ipAddressPoolsGR, []string{"Name", "Auto Assign", "Avoid Buggy IPs", "Addresses"}},
		{l2AdvertisementsGR, []string{"Name", "IPAddressPools", "IPAddressPool Selectors", "Interfaces", "Node Selectors*"}},
		{targetGroupBindingsGR, []string{"Name", "SERVICE-NAME", "SERVICE-PORT", "TARGET-TYPE", "ARN*", "AGE"}},
	}
	for _, tt := range tests {
		t.Run(tt.gr.String(), func(t *testing.T) {
			p, ok := For(tt.gr)
			if !ok {
				t.Fatal("no printer")
			}
			if got := header(p.Columns); !slices.Equal(got, tt.want) {
				t.Errorf("columns %q, want %q", got, tt.want)
			}
		})
	}
	p, _ := For(ipAddressPoolsGR)
	if got, want := p.Columns[3].Description, "Custom resource definition column (in JSONPath format): .spec.addresses"; got != want {
		t.Errorf("ADDRESSES description %q, want %q", got, want)
	}
	if p.Columns[1].Type != "boolean" {
		t.Errorf("AUTO ASSIGN type %q, want boolean", p.Columns[1].Type)
	}
}

func TestCustomResourceRows(t *testing.T) {
	pool := customResource("metallb.io/v1beta1", "IPAddressPool", "first-pool", "metallb-system", time.Hour, map[string]interface{}{
		"addresses": []interface{}{"192.168.1.150-192.168.1.200"}, "autoAssign": true, "avoidBuggyIPs": false,
	})
	minimalPool := customResource("metallb.io/v1beta1", "IPAddressPool", "bare", "metallb-system", time.Hour, map[string]interface{}{
		"addresses": []interface{}{"192.168.1.150/28", "fd00::/120"},
	})
	adv := customResource("metallb.io/v1beta1", "L2Advertisement", "first-pool-advertisement", "metallb-system", time.Hour, map[string]interface{}{
		"ipAddressPools": []interface{}{"first-pool"},
		"nodeSelectors":  []interface{}{map[string]interface{}{"matchLabels": map[string]interface{}{"kubernetes.io/hostname": "w1-k8s"}}},
	})
	tgb := customResource("elbv2.k8s.aws/v1beta1", "TargetGroupBinding", "k8s-game2048-service2-85c505d625", "game-2048", 7*time.Minute+27*time.Second, map[string]interface{}{
		"serviceRef":     map[string]interface{}{"name": "service-2048", "port": int64(80)},
		"targetType":     "ip",
		"targetGroupARN": "arn:aws:elasticloadbalancing:ap-northeast-2:111122223333:targetgroup/k8s-game2048/85c505d625",
	})
	namedPort := customResource("elbv2.k8s.aws/v1beta1", "TargetGroupBinding", "named", "default", time.Minute, map[string]interface{}{
		"serviceRef": map[string]interface{}{"name": "web", "port": "http"},
	})

	tests := []struct {
		name string
		gr   schema.GroupResource
		obj  *unstructured.Unstructured
		want []interface{}
	}{
		{"pool", ipAddressPoolsGR, pool, []interface{}{"first-pool", true, false, `["192.168.1.150-192.168.1.200"]`}},
		// Defaults that the CRD's schema would fill are absent here, so the
		// cells are null, as the API server prints them.
		{"pool without flags", ipAddressPoolsGR, minimalPool, []interface{}{"bare", nil, nil, `["192.168.1.150/28","fd00::/120"]`}},
		{"l2 advertisement", l2AdvertisementsGR, adv, []interface{}{"first-pool-advertisement", `["first-pool"]`, nil, nil,
			`[{"matchLabels":{"kubernetes.io/hostname":"w1-k8s"}}]`}},
		{"target group binding", targetGroupBindingsGR, tgb, []interface{}{"k8s-game2048-service2-85c505d625", "service-2048", "80", "ip",
			"arn:aws:elasticloadbalancing:ap-northeast-2:111122223333:targetgroup/k8s-game2048/85c505d625", "7m27s"}},
		{"named port, missing fields", targetGroupBindingsGR, namedPort, []interface{}{"named", "web", "http", nil, nil, "60s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertCells(t, tt.gr, row(t, tt.gr, tt.obj), tt.want)
		})
	}
}

func TestCustomResourcesKubectl(t *testing.T) {
	pool := customResource("metallb.io/v1beta1", "IPAddressPool", "first-pool", "metallb-system", time.Hour, map[string]interface{}{
		"addresses": []interface{}{"192.168.1.150-192.168.1.200"}, "autoAssign": true, "avoidBuggyIPs": false,
	})
	tgb := customResource("elbv2.k8s.aws/v1beta1", "TargetGroupBinding", "k8s-game2048-service2-85c505d625", "game-2048", 7*time.Minute+27*time.Second, map[string]interface{}{
		"serviceRef": map[string]interface{}{"name": "service-2048", "port": int64(80)}, "targetType": "ip", "targetGroupARN": "arn:aws:x",
	})
	tests := []struct {
		name string
		gr   schema.GroupResource
		obj  *unstructured.Unstructured
		wide bool
		want string
	}{
		// From the seed lab notes: 001 (MetalLB) and 004 (AWS load balancer
		// controller, whose notes collapse the spacing).
		{"ipaddresspools", ipAddressPoolsGR, pool, false, lines(
			"NAME         AUTO ASSIGN   AVOID BUGGY IPS   ADDRESSES",
			`first-pool   true          false             ["192.168.1.150-192.168.1.200"]`,
		)},
		{"targetgroupbindings", targetGroupBindingsGR, tgb, false, lines(
			"NAME                               SERVICE-NAME   SERVICE-PORT   TARGET-TYPE   AGE",
			"k8s-game2048-service2-85c505d625   service-2048   80             ip            7m27s",
		)},
		{"targetgroupbindings wide", targetGroupBindingsGR, tgb, true, lines(
			"NAME                               SERVICE-NAME   SERVICE-PORT   TARGET-TYPE   ARN         AGE",
			"k8s-game2048-service2-85c505d625   service-2048   80             ip            arn:aws:x   7m27s",
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kubectlGet(t, tt.gr, tt.wide, tt.obj); got != tt.want {
				t.Errorf("kubectl get:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestForColumns(t *testing.T) {
	obj := customResource("example.com/v1", "Widget", "w", "default", 2*time.Hour, map[string]interface{}{
		"replicas": int64(3), "ratio": 0.5, "enabled": true, "since": "2024-06-01T11:00:00Z", "bad": "yesterday",
		"text": "hello", "nested": map[string]interface{}{"k": "v"},
	})
	cols := []Column{
		{Name: "Replicas", Type: "integer", JSONPath: ".spec.replicas"},
		{Name: "Ratio", Type: "number", JSONPath: ".spec.ratio"},
		{Name: "Ratio As Integer", Type: "integer", JSONPath: ".spec.ratio"},
		{Name: "Enabled", Type: "boolean", JSONPath: ".spec.enabled"},
		{Name: "Text As Boolean", Type: "boolean", JSONPath: ".spec.text"},
		{Name: "Since", Type: "date", JSONPath: ".spec.since"},
		{Name: "Bad Date", Type: "date", JSONPath: ".spec.bad"},
		{Name: "Nested", Type: "string", JSONPath: ".spec.nested", Priority: 1, Description: "Nested thing", Format: "byte"},
		{Name: "Missing", Type: "string", JSONPath: ".status.phase"},
	}
	p, err := ForColumns(cols)
	if err != nil {
		t.Fatal(err)
	}
	want := []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Replicas", Type: "integer", Description: "Custom resource definition column (in JSONPath format): .spec.replicas"},
		{Name: "Ratio", Type: "number", Description: "Custom resource definition column (in JSONPath format): .spec.ratio"},
		{Name: "Ratio As Integer", Type: "integer", Description: "Custom resource definition column (in JSONPath format): .spec.ratio"},
		{Name: "Enabled", Type: "boolean", Description: "Custom resource definition column (in JSONPath format): .spec.enabled"},
		{Name: "Text As Boolean", Type: "boolean", Description: "Custom resource definition column (in JSONPath format): .spec.text"},
		{Name: "Since", Type: "date", Description: "Custom resource definition column (in JSONPath format): .spec.since"},
		{Name: "Bad Date", Type: "date", Description: "Custom resource definition column (in JSONPath format): .spec.bad"},
		{Name: "Nested", Type: "string", Format: "byte", Priority: 1, Description: "Nested thing"},
		{Name: "Missing", Type: "string", Description: "Custom resource definition column (in JSONPath format): .status.phase"},
	}
	if !slices.Equal(p.Columns, want) {
		t.Errorf("columns\n%+v\nwant\n%+v", p.Columns, want)
	}
	cells, err := p.Row(obj, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cells, []interface{}{"w", int64(3), 0.5, int64(0), true, nil, "60m", "<invalid>", `{"k":"v"}`, nil}; !slices.EqualFunc(got, want, func(a, b interface{}) bool { return a == b }) {
		t.Errorf("cells %#v, want %#v", got, want)
	}
}

func TestForColumnsDefaultsToAge(t *testing.T) {
	p, err := ForColumns(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := header(p.Columns); !slices.Equal(got, []string{"Name", "Age"}) {
		t.Errorf("columns %q, want [Name Age]", got)
	}
	if p.Columns[1].Type != "date" || p.Columns[1].Description != objectMetaDoc["creationTimestamp"] {
		t.Errorf("AGE column %+v", p.Columns[1])
	}
	cells, err := p.Row(customResource("example.com/v1", "Widget", "w", "", 3*24*time.Hour, nil), now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cells, []interface{}{"w", "3d"}) {
		t.Errorf("cells %#v, want [w 3d]", cells)
	}
}

func TestForColumnsRejectsBadPath(t *testing.T) {
	if _, err := ForColumns([]Column{{Name: "Broken", Type: "string", JSONPath: ".spec[?("}}); err == nil {
		t.Error("ForColumns accepted a malformed JSONPath")
	}
}

func TestForColumnsOnTypedObject(t *testing.T) {
	p, err := ForColumns([]Column{{Name: "Node", Type: "string", JSONPath: ".spec.nodeName"}, {Name: "Containers", Type: "integer", JSONPath: ".spec.containers[0].ports[0].containerPort"}})
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: objectMeta("web", "default", time.Minute), Spec: corev1.PodSpec{NodeName: "w1-k8s",
		Containers: []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}}}}
	cells, err := p.Row(pod, now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cells, []interface{}{"web", "w1-k8s", int64(8080)}) {
		t.Errorf("cells %#v, want [web w1-k8s 8080]", cells)
	}
}
