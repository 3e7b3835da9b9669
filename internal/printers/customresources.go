package printers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/jsonpath"
)

// Column is one additionalPrinterColumn of a CustomResourceDefinition
// version (apiextensions.k8s.io/v1 CustomResourceColumnDefinition).
type Column struct {
	// Name is the column's header, printed upper-cased by kubectl.
	Name string
	// Type is the OpenAPI type of the cells: integer, number, string,
	// boolean or date.
	Type string
	// Format is the optional OpenAPI format of the cells.
	Format string
	// Description is shown by `kubectl explain`-style clients; empty means
	// "Custom resource definition column (in JSONPath format): <path>".
	Description string
	// Priority 0 shows the column by default, higher only with -o wide.
	Priority int32
	// JSONPath selects the cell's value, for example ".spec.addresses".
	JSONPath string
}

// customResourceColumns are the printer columns of the custom resources kin
// serves, copied from their projects' CRDs.
var customResourceColumns = map[schema.GroupResource][]Column{
	// MetalLB's config/crd/bases/metallb.io_ipaddresspools.yaml (v1beta1).
	{Group: "metallb.io", Resource: "ipaddresspools"}: {
		{Name: "Auto Assign", Type: "boolean", JSONPath: ".spec.autoAssign"},
		{Name: "Avoid Buggy IPs", Type: "boolean", JSONPath: ".spec.avoidBuggyIPs"},
		{Name: "Addresses", Type: "string", JSONPath: ".spec.addresses"},
	},
	// MetalLB's config/crd/bases/metallb.io_l2advertisements.yaml (v1beta1).
	{Group: "metallb.io", Resource: "l2advertisements"}: {
		{Name: "IPAddressPools", Type: "string", JSONPath: ".spec.ipAddressPools"},
		{Name: "IPAddressPool Selectors", Type: "string", JSONPath: ".spec.ipAddressPoolSelectors"},
		{Name: "Interfaces", Type: "string", JSONPath: ".spec.interfaces"},
		{Name: "Node Selectors", Type: "string", Priority: 10, JSONPath: ".spec.nodeSelectors"},
	},
	// aws-load-balancer-controller's
	// config/crd/bases/elbv2.k8s.aws_targetgroupbindings.yaml (v1beta1 and
	// v1alpha1 print the same columns).
	{Group: "elbv2.k8s.aws", Resource: "targetgroupbindings"}: {
		{Name: "SERVICE-NAME", Type: "string", Description: "The Kubernetes Service's name", JSONPath: ".spec.serviceRef.name"},
		{Name: "SERVICE-PORT", Type: "string", Description: "The Kubernetes Service's port", JSONPath: ".spec.serviceRef.port"},
		{Name: "TARGET-TYPE", Type: "string", Description: "The AWS TargetGroup's TargetType", JSONPath: ".spec.targetType"},
		{Name: "ARN", Type: "string", Priority: 1, Description: "The AWS TargetGroup's Amazon Resource Name", JSONPath: ".spec.targetGroupARN"},
		{Name: "AGE", Type: "date", JSONPath: ".metadata.creationTimestamp"},
	},
}

// ForColumns returns the printer for a custom resource whose CRD declares
// columns, built as the apiextensions-apiserver's table convertor builds it:
// NAME, then one column per CRD column. A CRD without columns prints
// NAME and AGE. Cells of string columns are printed like
// `kubectl get -o jsonpath` (lists and objects as JSON, for example
// ["192.168.1.150-192.168.1.200"]); other cells keep their type, date cells
// become ages; missing values are null. The API server can call ForColumns
// with the columns of the CRDs it serves.
func ForColumns(cols []Column) (Printer, error) {
	if len(cols) == 0 {
		cols = []Column{{Name: "Age", Type: "date", Description: objectMetaDoc["creationTimestamp"], JSONPath: ".metadata.creationTimestamp"}}
	}
	defs := []metav1.TableColumnDefinition{nameColumn}
	templates := make([]string, len(cols))
	for i, c := range cols {
		templates[i] = "{" + c.JSONPath + "}"
		if err := jsonpath.New(c.Name).Parse(templates[i]); err != nil {
			return Printer{}, fmt.Errorf("printers: unrecognized column definition %q: %w", c.JSONPath, err)
		}
		desc := c.Description
		if desc == "" {
			desc = "Custom resource definition column (in JSONPath format): " + c.JSONPath
		}
		defs = append(defs, metav1.TableColumnDefinition{Name: c.Name, Type: c.Type, Format: c.Format, Description: desc, Priority: c.Priority})
	}
	row := func(obj runtime.Object, now time.Time) ([]interface{}, error) {
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, fmt.Errorf("object %T has no metadata: %w", obj, err)
		}
		content, err := unstructuredContent(obj)
		if err != nil {
			return nil, err
		}
		cells := make([]interface{}, 1, 1+len(cols))
		cells[0] = m.GetName()
		for i, c := range cols {
			cell, err := columnCell(c, templates[i], content, now)
			if err != nil {
				return nil, err
			}
			cells = append(cells, cell)
		}
		return cells, nil
	}
	return Printer{Columns: defs, Row: row}, nil
}

// unstructuredContent returns obj's content as a JSON-like map.
func unstructuredContent(obj runtime.Object) (map[string]interface{}, error) {
	if u, ok := obj.(runtime.Unstructured); ok {
		return u.UnstructuredContent(), nil
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("convert %T to unstructured: %w", obj, err)
	}
	return content, nil
}

// columnCell evaluates one CRD column for an object's content. A JSONPath
// parser keeps state while it evaluates, so each cell gets its own.
func columnCell(c Column, template string, content map[string]interface{}, now time.Time) (interface{}, error) {
	path := jsonpath.New(c.Name).AllowMissingKeys(true)
	if err := path.Parse(template); err != nil {
		return nil, fmt.Errorf("parse column %q: %w", c.Name, err)
	}
	results, err := path.FindResults(content)
	if err != nil || len(results) == 0 || len(results[0]) == 0 {
		return nil, nil
	}
	// Only simple paths are supported, so the first result is the value.
	value := results[0][0].Interface()
	if c.Type != "string" {
		return typedCell(c.Type, value, now), nil
	}
	var buf bytes.Buffer
	if err := path.PrintResults(&buf, []reflect.Value{reflect.ValueOf(value)}); err != nil {
		return nil, nil
	}
	return buf.String(), nil
}

// typedCell converts a JSON value into the cell of a column of the given
// non-string type, or nil when the value does not fit the type.
func typedCell(columnType string, value interface{}, now time.Time) interface{} {
	switch columnType {
	case "integer":
		switch v := value.(type) {
		case int64:
			return v
		case float64:
			return int64(v)
		case json.Number:
			if i, err := v.Int64(); err == nil {
				return i
			}
		}
	case "number":
		switch v := value.(type) {
		case int64:
			return float64(v)
		case float64:
			return v
		case json.Number:
			if f, err := v.Float64(); err == nil {
				return f
			}
		}
	case "boolean":
		if b, ok := value.(bool); ok {
			return b
		}
	case "date":
		if s, ok := value.(string); ok {
			var t metav1.Time
			if err := t.UnmarshalQueryParameter(s); err != nil {
				return "<invalid>"
			}
			return age(t, now)
		}
	}
	return nil
}
