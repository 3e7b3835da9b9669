package validation

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Messages of the name and port rules, spelled out here rather than taken
// from the library so that the tests pin the exact text users see.
const (
	dns1123LabelMsg     = `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`
	dns1035LabelMsg     = `a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`
	dns1123SubdomainMsg = `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`
	labelValueMsg       = `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`
	portRangeMsg        = `must be between 1 and 65535, inclusive`
)

// create runs obj through the create pipeline the API server uses.
func create(obj runtime.Object) field.ErrorList {
	Default(obj)
	PrepareForCreate(obj)
	return ValidateCreate(obj)
}

// mustCreate runs the create pipeline and fails the test on any error; it
// returns obj as it would be stored, with a resource version.
func mustCreate[T runtime.Object](t *testing.T, obj T) T {
	t.Helper()
	if errs := create(obj); len(errs) != 0 {
		t.Fatalf("create: unexpected errors: %v", errs.ToAggregate())
	}
	if m, ok := any(obj).(interface{ SetResourceVersion(string) }); ok {
		m.SetResourceVersion("1")
	}
	return obj
}

// update runs obj through the update pipeline against the stored old.
func update(obj, old runtime.Object) field.ErrorList {
	Default(obj)
	PrepareForUpdate(obj, old)
	return ValidateUpdate(obj, old)
}

// render returns each error as kubectl prints it.
func render(errs field.ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

// checkErrors compares the rendered errors with want, one by one, and the
// aggregate message the API server puts in the Status.
func checkErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := render(errs)
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\ngot:  %s\nwant: %s", len(got), len(want), strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("error %d:\ngot:  %s\nwant: %s", i, got[i], want[i])
		}
	}
	if len(want) == 0 {
		return
	}
	agg := errs.ToAggregate().Error()
	var unique []string
	seen := map[string]bool{}
	for _, w := range want {
		if !seen[w] {
			seen[w] = true
			unique = append(unique, w)
		}
	}
	wantAgg := unique[0]
	if len(unique) > 1 {
		wantAgg = "[" + strings.Join(unique, ", ") + "]"
	}
	if agg != wantAgg {
		t.Errorf("aggregate:\ngot:  %s\nwant: %s", agg, wantAgg)
	}
}
