package validation

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// newCustom returns an unstructured object of the given type with a spec.
func newCustom(apiVersion, kind, name string, spec map[string]interface{}) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": apiVersion,
		"kind":       kind,
		"metadata":   map[string]interface{}{"name": name, "namespace": "metallb-system"},
	}}
	if spec != nil {
		u.Object["spec"] = spec
	}
	return u
}

func TestIPAddressPool(t *testing.T) {
	pool := func(spec map[string]interface{}) *unstructured.Unstructured {
		return newCustom("metallb.io/v1beta1", "IPAddressPool", "first-pool", spec)
	}
	ok := pool(map[string]interface{}{"addresses": []interface{}{"192.168.1.200-192.168.1.250", "10.0.0.0/24"}})
	checkErrors(t, create(ok), nil)
	if ok.Object["spec"].(map[string]interface{})["autoAssign"] != true || ok.Object["spec"].(map[string]interface{})["avoidBuggyIPs"] != false {
		t.Errorf("CRD defaults not applied: %v", ok.Object["spec"])
	}
	if ok.GetGeneration() != 1 {
		t.Errorf("generation = %d, want 1", ok.GetGeneration())
	}

	tests := []struct {
		name string
		obj  *unstructured.Unstructured
		want []string
	}{
		{"no spec", pool(nil), []string{"spec: Required value"}},
		{"no addresses", pool(map[string]interface{}{}), []string{"spec.addresses: Required value"}},
		{"addresses not a list", pool(map[string]interface{}{"addresses": "10.0.0.0/24"}),
			[]string{`spec.addresses: Invalid value: "string": spec.addresses in body must be of type array: "string"`}},
		{"bad CIDR", pool(map[string]interface{}{"addresses": []interface{}{"192.168.1.300/24"}}),
			[]string{`spec.addresses[0]: Invalid value: "192.168.1.300/24": invalid CIDR "192.168.1.300/24" in pool "first-pool": invalid CIDR "192.168.1.300/24"`}},
		{"reversed range", pool(map[string]interface{}{"addresses": []interface{}{"192.168.1.250-192.168.1.200"}}),
			[]string{`spec.addresses[0]: Invalid value: "192.168.1.250-192.168.1.200": invalid CIDR "192.168.1.250-192.168.1.200" in pool "first-pool": invalid IP range "192.168.1.250-192.168.1.200": start IP "192.168.1.250" is after the end IP "192.168.1.200"`}},
		{"bad range start", pool(map[string]interface{}{"addresses": []interface{}{"x-192.168.1.200"}}),
			[]string{`spec.addresses[0]: Invalid value: "x-192.168.1.200": invalid CIDR "x-192.168.1.200" in pool "first-pool": invalid IP range "x-192.168.1.200": invalid start IP "x"`}},
		{"autoAssign not a boolean", pool(map[string]interface{}{"addresses": []interface{}{"10.0.0.0/24"}, "autoAssign": "yes"}),
			[]string{`spec.autoAssign: Invalid value: "string": spec.autoAssign in body must be of type boolean: "string"`}},
		{"bad name", newCustom("metallb.io/v1beta1", "IPAddressPool", "First", map[string]interface{}{"addresses": []interface{}{"10.0.0.0/24"}}),
			[]string{`metadata.name: Invalid value: "First": ` + dns1123SubdomainMsg}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.obj), tc.want)
		})
	}

	ok.SetResourceVersion("1")
	upd := ok.DeepCopy()
	_ = unstructured.SetNestedStringSlice(upd.Object, []string{"10.0.1.0/24"}, "spec", "addresses")
	if errs := update(upd, ok); len(errs) != 0 || upd.GetGeneration() != 2 {
		t.Errorf("errors %v generation %d, want none and 2", errs, upd.GetGeneration())
	}
}

func TestL2Advertisement(t *testing.T) {
	checkErrors(t, create(newCustom("metallb.io/v1beta1", "L2Advertisement", "l2", nil)), nil)
	checkErrors(t, create(newCustom("metallb.io/v1beta1", "L2Advertisement", "l2", map[string]interface{}{"ipAddressPools": []interface{}{"first-pool"}})), nil)
	checkErrors(t, create(newCustom("metallb.io/v1beta1", "L2Advertisement", "l2", map[string]interface{}{"ipAddressPools": []interface{}{int64(1)}})),
		[]string{`spec.ipAddressPools[0]: Invalid value: "integer": spec.ipAddressPools[0] in body must be of type string: "integer"`})
}

func TestTargetGroupBinding(t *testing.T) {
	tgb := func(spec map[string]interface{}) *unstructured.Unstructured {
		return newCustom("elbv2.k8s.aws/v1beta1", "TargetGroupBinding", "web-tgb", spec)
	}
	arn := "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/web/abc"
	tests := []struct {
		name string
		obj  *unstructured.Unstructured
		want []string
	}{
		{"valid", tgb(map[string]interface{}{
			"serviceRef":     map[string]interface{}{"name": "web", "port": int64(80)},
			"targetGroupARN": arn,
			"targetType":     "ip",
		}), nil},
		{"named port", tgb(map[string]interface{}{
			"serviceRef":     map[string]interface{}{"name": "web", "port": "http"},
			"targetGroupARN": arn,
		}), nil},
		{"missing fields", tgb(map[string]interface{}{"serviceRef": map[string]interface{}{"name": "web"}}), []string{
			"spec.targetGroupARN: Required value",
			"spec.serviceRef.port: Required value",
		}},
		{"empty ARN and bad target type", tgb(map[string]interface{}{
			"serviceRef":     map[string]interface{}{"name": "web", "port": int64(80)},
			"targetGroupARN": "",
			"targetType":     "pod",
		}), []string{
			`spec.targetGroupARN: Invalid value: "": spec.targetGroupARN in body should be at least 1 chars long`,
			`spec.targetType: Unsupported value: "pod": supported values: "instance", "ip"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErrors(t, create(tc.obj), tc.want)
		})
	}
}

func TestUnknownCustomResource(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "example.com/v1",
		"kind":       "Widget",
		"metadata":   map[string]interface{}{"name": "w_1"},
		"spec":       map[string]interface{}{"anything": true},
	}}
	checkErrors(t, create(u), []string{`metadata.name: Invalid value: "w_1": ` + dns1123SubdomainMsg})
}
