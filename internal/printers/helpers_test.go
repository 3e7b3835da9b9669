package printers

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	cliprinters "k8s.io/cli-runtime/pkg/printers"
)

// now is the fixed time the tests measure ages against.
var now = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// ago returns the metav1.Time d before now.
func ago(d time.Duration) metav1.Time {
	return metav1.NewTime(now.Add(-d))
}

// objectMeta returns object metadata with a name, namespace and creation time d
// before now.
func objectMeta(name, namespace string, d time.Duration) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace, CreationTimestamp: ago(d)}
}

// header describes a column by name, with a "*" suffix for wide-only columns.
func header(cols []metav1.TableColumnDefinition) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
		if c.Priority != 0 {
			out[i] += "*"
		}
	}
	return out
}

// row returns the cells the printer of gr makes for obj.
func row(t *testing.T, gr schema.GroupResource, obj runtime.Object) []interface{} {
	t.Helper()
	p, ok := For(gr)
	if !ok {
		t.Fatalf("no printer for %s", gr)
	}
	cells, err := p.Row(obj, now)
	if err != nil {
		t.Fatalf("row: %v", err)
	}
	if len(cells) != len(p.Columns) {
		t.Fatalf("%d cells for %d columns: %v", len(cells), len(p.Columns), cells)
	}
	return cells
}

// assertCells compares cells with want, naming the differing columns.
func assertCells(t *testing.T, gr schema.GroupResource, got, want []interface{}) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	p, _ := For(gr)
	for i := range max(len(got), len(want)) {
		var g, w interface{} = "<missing>", "<missing>"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !reflect.DeepEqual(g, w) {
			name := "?"
			if i < len(p.Columns) {
				name = p.Columns[i].Name
			}
			t.Errorf("column %d (%s): got %#v, want %#v", i, name, g, w)
		}
	}
}

// kubectlGet renders the table for objs the way `kubectl get` (or
// `kubectl get -o wide`) does: the table goes through JSON, as over the
// wire, and is printed by kubectl's own table printer.
func kubectlGet(t *testing.T, gr schema.GroupResource, wide bool, objs ...runtime.Object) string {
	t.Helper()
	table, err := Table(gr, objs, now)
	if err != nil {
		t.Fatalf("Table: %v", err)
	}
	data, err := json.Marshal(table)
	if err != nil {
		t.Fatalf("marshal table: %v", err)
	}
	var decoded metav1.Table
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatalf("unmarshal table: %v", err)
	}
	var buf bytes.Buffer
	if err := cliprinters.NewTablePrinter(cliprinters.PrintOptions{Wide: wide}).PrintObj(&decoded, &buf); err != nil {
		t.Fatalf("print table: %v", err)
	}
	return buf.String()
}

// lines joins lines with newlines and a final newline, for expected
// kubectl output.
func lines(l ...string) string {
	return strings.Join(l, "\n") + "\n"
}
