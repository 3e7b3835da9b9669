package validation

import (
	"bytes"
	"fmt"
	"net"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Custom resources kin knows the schema of.
var (
	ipAddressPoolKind      = schema.GroupKind{Group: "metallb.io", Kind: "IPAddressPool"}
	l2AdvertisementKind    = schema.GroupKind{Group: "metallb.io", Kind: "L2Advertisement"}
	targetGroupBindingKind = schema.GroupKind{Group: "elbv2.k8s.aws", Kind: "TargetGroupBinding"}
)

// schemaNode is the part of a CRD's structural OpenAPI schema that kin
// checks: types, required properties, enums and minimum string lengths.
type schemaNode struct {
	// typ is "object", "array", "string", "boolean", "integer" or
	// "int-or-string"; "" accepts anything.
	typ       string
	required  []string
	props     map[string]*schemaNode
	items     *schemaNode
	enum      []string
	minLength int
	// defaultValue, when not nil, is set on a missing property of an object
	// that is present, as the CRD's default.
	defaultValue interface{}
}

// Schema building helpers.
var (
	anyNode       = &schemaNode{}
	stringNode    = &schemaNode{typ: "string"}
	objectNode    = &schemaNode{typ: "object"}
	stringArray   = &schemaNode{typ: "array", items: stringNode}
	objectArray   = &schemaNode{typ: "array", items: objectNode}
	crdSchemaRoot = func(spec *schemaNode, specRequired bool) *schemaNode {
		root := &schemaNode{typ: "object", props: map[string]*schemaNode{"spec": spec, "status": anyNode}}
		if specRequired {
			root.required = []string{"spec"}
		}
		return root
	}
)

// customSchemas are the CRD schemas of the custom resources kin serves:
// MetalLB's IPAddressPool and L2Advertisement and the AWS Load Balancer
// Controller's TargetGroupBinding.
var customSchemas = map[schema.GroupKind]*schemaNode{
	ipAddressPoolKind: crdSchemaRoot(&schemaNode{
		typ:      "object",
		required: []string{"addresses"},
		props: map[string]*schemaNode{
			"addresses":     stringArray,
			"autoAssign":    {typ: "boolean", defaultValue: true},
			"avoidBuggyIPs": {typ: "boolean", defaultValue: false},
			"serviceAllocation": {typ: "object", props: map[string]*schemaNode{
				"priority":           {typ: "integer"},
				"namespaces":         stringArray,
				"namespaceSelectors": objectArray,
				"serviceSelectors":   objectArray,
			}},
		},
	}, true),
	l2AdvertisementKind: crdSchemaRoot(&schemaNode{
		typ: "object",
		props: map[string]*schemaNode{
			"ipAddressPools":         stringArray,
			"ipAddressPoolSelectors": objectArray,
			"nodeSelectors":          objectArray,
			"interfaces":             stringArray,
		},
	}, false),
	targetGroupBindingKind: crdSchemaRoot(&schemaNode{
		typ:      "object",
		required: []string{"serviceRef", "targetGroupARN"},
		props: map[string]*schemaNode{
			"serviceRef": {typ: "object", required: []string{"name", "port"}, props: map[string]*schemaNode{
				"name": stringNode,
				"port": {typ: "int-or-string"},
			}},
			"targetGroupARN": {typ: "string", minLength: 1},
			"targetType":     {typ: "string", enum: []string{"instance", "ip"}},
			"ipAddressType":  {typ: "string", enum: []string{"ipv4", "ipv6"}},
			"nodeSelector":   objectNode,
			"networking":     objectNode,
			"vpcID":          stringNode,
		},
	}, false),
}

// groupKindOf returns the group and kind of an unstructured object.
func groupKindOf(u *unstructured.Unstructured) schema.GroupKind {
	gv, err := schema.ParseGroupVersion(u.GetAPIVersion())
	if err != nil {
		return schema.GroupKind{Kind: u.GetKind()}
	}
	return schema.GroupKind{Group: gv.Group, Kind: u.GetKind()}
}

// defaultCustomResource applies the defaults of a known CRD schema.
func defaultCustomResource(u *unstructured.Unstructured) {
	if s, ok := customSchemas[groupKindOf(u)]; ok {
		applySchemaDefaults(u.Object, s)
	}
}

// applySchemaDefaults sets the schema's defaults on missing properties of
// objects that are present.
func applySchemaDefaults(obj map[string]interface{}, s *schemaNode) {
	for name, prop := range s.props {
		v, ok := obj[name]
		if !ok {
			if prop.defaultValue != nil {
				obj[name] = prop.defaultValue
			}
			continue
		}
		if m, isMap := v.(map[string]interface{}); isMap && prop.typ == "object" {
			applySchemaDefaults(m, prop)
		}
	}
}

// prepareCustomResourceUpdate bumps the generation when anything other than
// metadata and status changed, as the custom resource strategy does.
func prepareCustomResourceUpdate(u, old *unstructured.Unstructured) {
	if !equality.Semantic.DeepEqual(contentOf(u), contentOf(old)) {
		u.SetGeneration(old.GetGeneration() + 1)
	}
}

// contentOf returns an object's fields without metadata and status.
func contentOf(u *unstructured.Unstructured) map[string]interface{} {
	c := map[string]interface{}{}
	for k, v := range u.Object {
		if k != "metadata" && k != "status" {
			c[k] = v
		}
	}
	return c
}

// validateCustomResource validates a custom resource: its metadata, and for
// the kinds kin knows, its CRD schema and the admission webhook's checks.
func validateCustomResource(u *unstructured.Unstructured) field.ErrorList {
	gk := groupKindOf(u)
	s, known := customSchemas[gk]
	allErrs := validateMetaAccessor(u, known || u.GetNamespace() != "", apimachineryvalidation.NameIsDNSSubdomain)
	if !known {
		return allErrs
	}
	schemaErrs := validateSchema(u.Object, s, nil)
	allErrs = append(allErrs, schemaErrs...)
	if len(schemaErrs) == 0 && gk == ipAddressPoolKind {
		allErrs = append(allErrs, validateIPAddressPoolAddresses(u)...)
	}
	return allErrs
}

// validateCustomResourceUpdate validates an update of a custom resource.
func validateCustomResourceUpdate(u, old *unstructured.Unstructured) field.ErrorList {
	return append(validateMetaAccessorUpdate(u, old), validateCustomResource(u)...)
}

// validateSchema checks value against s the way the API server checks a
// custom resource against its structural schema; the messages follow
// kube-openapi's.
func validateSchema(value interface{}, s *schemaNode, fldPath *field.Path) field.ErrorList {
	if s.typ != "" && !matchesType(value, s.typ) {
		actual := jsonType(value)
		want := s.typ
		if want == "int-or-string" {
			want = "integer,string"
		}
		return field.ErrorList{field.Invalid(fldPath, actual, fmt.Sprintf("%s in body must be of type %s: %q", bodyPath(fldPath), want, actual))}
	}
	var allErrs field.ErrorList
	switch v := value.(type) {
	case map[string]interface{}:
		for _, name := range s.required {
			if _, ok := v[name]; !ok {
				allErrs = append(allErrs, field.Required(fldPath.Child(name), ""))
			}
		}
		names := make([]string, 0, len(s.props))
		for name := range s.props {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if pv, ok := v[name]; ok {
				allErrs = append(allErrs, validateSchema(pv, s.props[name], fldPath.Child(name))...)
			}
		}
	case []interface{}:
		if s.items != nil {
			for i, item := range v {
				allErrs = append(allErrs, validateSchema(item, s.items, fldPath.Index(i))...)
			}
		}
	case string:
		if len(v) < s.minLength {
			allErrs = append(allErrs, field.Invalid(fldPath, v, fmt.Sprintf("%s in body should be at least %d chars long", bodyPath(fldPath), s.minLength)))
		}
		if len(s.enum) > 0 {
			found := false
			for _, e := range s.enum {
				found = found || e == v
			}
			if !found {
				allErrs = append(allErrs, field.NotSupported(fldPath, v, s.enum))
			}
		}
	}
	return allErrs
}

// bodyPath renders a field path as kube-openapi does in its messages.
func bodyPath(p *field.Path) string {
	if p == nil {
		return "body"
	}
	return p.String()
}

// matchesType reports whether a decoded JSON value has the schema type.
func matchesType(value interface{}, typ string) bool {
	switch typ {
	case "object":
		_, ok := value.(map[string]interface{})
		return ok
	case "array":
		_, ok := value.([]interface{})
		return ok
	case "string":
		_, ok := value.(string)
		return ok
	case "boolean":
		_, ok := value.(bool)
		return ok
	case "integer":
		return jsonType(value) == "integer"
	case "int-or-string":
		t := jsonType(value)
		return t == "integer" || t == "string"
	}
	return true
}

// jsonType names the JSON type of a decoded value.
func jsonType(value interface{}) string {
	switch v := value.(type) {
	case nil:
		return "null"
	case map[string]interface{}:
		return "object"
	case []interface{}:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int, int32, int64:
		return "integer"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case float32:
		return "number"
	}
	return fmt.Sprintf("%T", value)
}

// validateIPAddressPoolAddresses checks each address of an IPAddressPool as
// MetalLB's webhook does: a CIDR or a "first-last" range.
func validateIPAddressPoolAddresses(u *unstructured.Unstructured) field.ErrorList {
	addrs, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "addresses")
	var allErrs field.ErrorList
	p := field.NewPath("spec", "addresses")
	for i, a := range addrs {
		if err := parseMetalLBCIDR(a); err != nil {
			allErrs = append(allErrs, field.Invalid(p.Index(i), a, fmt.Sprintf("invalid CIDR %q in pool %q: %s", a, u.GetName(), err)))
		}
	}
	return allErrs
}

// parseMetalLBCIDR checks an IPAddressPool address the way MetalLB's
// ParseCIDR does.
func parseMetalLBCIDR(cidr string) error {
	if !strings.Contains(cidr, "-") {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			return fmt.Errorf("invalid CIDR %q", cidr)
		}
		return nil
	}
	fs := strings.SplitN(cidr, "-", 2)
	start := net.ParseIP(strings.TrimSpace(fs[0]))
	if start == nil {
		return fmt.Errorf("invalid IP range %q: invalid start IP %q", cidr, fs[0])
	}
	end := net.ParseIP(strings.TrimSpace(fs[1]))
	if end == nil {
		return fmt.Errorf("invalid IP range %q: invalid end IP %q", cidr, fs[1])
	}
	if bytes.Compare(start, end) > 0 {
		return fmt.Errorf("invalid IP range %q: start IP %q is after the end IP %q", cidr, start, end)
	}
	return nil
}
