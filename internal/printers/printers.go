// Package printers builds the server-side tables (meta.k8s.io/v1 Table) that
// kubectl asks for with
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, so that `kubectl get`
// against kin prints the same columns and cells as against kube-apiserver.
//
// Each resource has a Printer: its column definitions and a function that
// turns one object into the cells of one row. The columns, their order,
// priorities, types and descriptions, and the cell text, follow
// kube-apiserver's printers (k8s.io/kubernetes/pkg/printers/internalversion,
// v1.37) for built-in resources, and the apiextensions-apiserver's table
// convertor for custom resources, whose columns come from the CRD's
// additionalPrinterColumns. Like kube-apiserver, every row carries every
// column (including the Priority 1 columns that only `-o wide` shows); kubectl
// hides the columns it does not want.
//
// Resources without a Printer get kube-apiserver's default table:
// NAME and CREATED AT.
package printers

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Printer builds table columns and rows for one resource.
type Printer struct {
	// Columns are the table's column definitions, NAME first (except for
	// events, whose first column is LAST SEEN). Priority 0 columns make the
	// default view; Priority 1 (or higher) columns appear only with -o wide.
	Columns []metav1.TableColumnDefinition
	// Row returns the cells of the row for obj, one per column. now is the
	// time that ages ("5m", "3d4h") are measured against.
	Row func(obj runtime.Object, now time.Time) ([]interface{}, error)
	// Conditions optionally returns the row conditions kube-apiserver attaches
	// to a row (pods that have finished carry a Completed condition).
	Conditions func(obj runtime.Object) []metav1.TableRowCondition
}

// registry holds the printers of every resource that has one.
var registry = func() map[schema.GroupResource]Printer {
	r := make(map[schema.GroupResource]Printer)
	add := func(group string, printers map[string]Printer) {
		for resource, p := range printers {
			r[schema.GroupResource{Group: group, Resource: resource}] = p
		}
	}
	add("", corePrinters())
	add("apps", appsPrinters())
	add("discovery.k8s.io", discoveryPrinters())
	add("networking.k8s.io", networkingPrinters())
	add("coordination.k8s.io", coordinationPrinters())
	add("events.k8s.io", eventsPrinters())
	add("rbac.authorization.k8s.io", rbacPrinters())
	for gr, columns := range customResourceColumns {
		p, err := ForColumns(columns)
		if err != nil {
			panic(fmt.Sprintf("printers: custom resource %s: %v", gr, err))
		}
		r[gr] = p
	}
	return r
}()

// For returns the printer for a group-resource (for example
// {Group: "apps", Resource: "deployments"}). ok is false when the resource has
// no printer; callers then use the default NAME / CREATED AT table, which is
// what Table does. The printer is shared: callers must not modify it.
func For(gr schema.GroupResource) (Printer, bool) {
	p, ok := registry[gr]
	return p, ok
}

// Table builds the metav1.Table for objs, as kube-apiserver answers a request
// for `as=Table;v=v1;g=meta.k8s.io` with the default includeObject=Metadata:
// each row's Object holds a meta.k8s.io/v1 PartialObjectMetadata with the
// object's metadata. Resources without a printer get kube-apiserver's default
// table (NAME, CREATED AT). The caller fills the table's ListMeta
// (resourceVersion, continue, remainingItemCount); for includeObject=None or
// Object it replaces the row objects, and for a meta.k8s.io/v1beta1 request
// it sets that version on the table and the row objects.
func Table(gr schema.GroupResource, objs []runtime.Object, now time.Time) (*metav1.Table, error) {
	p, ok := For(gr)
	if !ok {
		p = defaultPrinter
	}
	table := &metav1.Table{
		TypeMeta:          metav1.TypeMeta{APIVersion: metav1.SchemeGroupVersion.String(), Kind: "Table"},
		ColumnDefinitions: append([]metav1.TableColumnDefinition(nil), p.Columns...),
		Rows:              make([]metav1.TableRow, 0, len(objs)),
	}
	for _, obj := range objs {
		row, err := tableRow(p, obj, now)
		if err != nil {
			return nil, fmt.Errorf("printers: %s: %w", gr.String(), err)
		}
		table.Rows = append(table.Rows, row)
	}
	if !ok && len(table.Rows) == 0 {
		// kube-apiserver's default table convertor leaves rows unset (null)
		// for an empty list, while its printers answer an empty array.
		table.Rows = nil
	}
	return table, nil
}

// tableRow builds the row for one object with p.
func tableRow(p Printer, obj runtime.Object, now time.Time) (metav1.TableRow, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return metav1.TableRow{}, fmt.Errorf("object %T has no metadata: %w", obj, err)
	}
	cells, err := p.Row(obj, now)
	if err != nil {
		return metav1.TableRow{}, fmt.Errorf("row for %q: %w", m.GetName(), err)
	}
	if len(cells) != len(p.Columns) {
		return metav1.TableRow{}, fmt.Errorf("row for %q has %d cells for %d columns", m.GetName(), len(cells), len(p.Columns))
	}
	partial := meta.AsPartialObjectMetadata(m)
	partial.SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("PartialObjectMetadata"))
	row := metav1.TableRow{Cells: cells, Object: runtime.RawExtension{Object: partial}}
	if p.Conditions != nil {
		row.Conditions = p.Conditions(obj)
	}
	return row, nil
}

// objectMetaDoc holds the API documentation of ObjectMeta's fields, which
// kube-apiserver uses as the descriptions of the NAME and AGE columns.
var objectMetaDoc = metav1.ObjectMeta{}.SwaggerDoc()

// defaultPrinter is kube-apiserver's default table convertor
// (k8s.io/apiserver/pkg/registry/rest.NewDefaultTableConvertor): the name
// and the creation time in RFC 3339, which kubectl prints as NAME and
// CREATED AT.
var defaultPrinter = Printer{
	Columns: []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name", Description: objectMetaDoc["name"]},
		{Name: "Created At", Type: "date", Description: objectMetaDoc["creationTimestamp"]},
	},
	Row: func(obj runtime.Object, _ time.Time) ([]interface{}, error) {
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, fmt.Errorf("object %T has no metadata: %w", obj, err)
		}
		return []interface{}{m.GetName(), m.GetCreationTimestamp().Time.UTC().Format(time.RFC3339)}, nil
	},
}

// Columns shared by many printers.
var (
	// nameColumn is the NAME column most printers start with.
	nameColumn = metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: objectMetaDoc["name"]}
	// ageColumn is the AGE column of the built-in printers.
	ageColumn = metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: objectMetaDoc["creationTimestamp"]}
	// containersColumn is the wide CONTAINERS column of workloads.
	containersColumn = metav1.TableColumnDefinition{Name: "Containers", Type: "string", Priority: 1, Description: "Names of each container in the template."}
	// imagesColumn is the wide IMAGES column of workloads.
	imagesColumn = metav1.TableColumnDefinition{Name: "Images", Type: "string", Priority: 1, Description: "Images referenced by each container in the template."}
)

// age formats the time elapsed from t to now as kube-apiserver does:
// "<unknown>" for an unset time, otherwise duration.HumanDuration ("5m",
// "3d4h").
func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// microAge is age for a MicroTime.
func microAge(t metav1.MicroTime, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// objectPointer constrains PT to a pointer to T that is a runtime.Object,
// such as *corev1.Pod.
type objectPointer[T any] interface {
	*T
	runtime.Object
}

// typed adapts a function of a typed object into a Printer's Row function.
// Besides the typed object it accepts the same object as
// *unstructured.Unstructured, which it converts first.
func typed[T any, PT objectPointer[T]](cells func(obj PT, now time.Time) []interface{}) func(runtime.Object, time.Time) ([]interface{}, error) {
	return func(obj runtime.Object, now time.Time) ([]interface{}, error) {
		o, err := asTyped[T, PT](obj)
		if err != nil {
			return nil, err
		}
		return cells(o, now), nil
	}
}

// asTyped returns obj as PT, converting it from unstructured content if
// needed.
func asTyped[T any, PT objectPointer[T]](obj runtime.Object) (PT, error) {
	switch o := obj.(type) {
	case PT:
		return o, nil
	case *unstructured.Unstructured:
		out := PT(new(T))
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.UnstructuredContent(), out); err != nil {
			return nil, fmt.Errorf("convert %s %q to %T: %w", o.GetKind(), o.GetName(), out, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected object type %T, want %T", obj, PT(nil))
}
