package e2e

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLabs runs every lab under examples/labs on a fresh cluster, as
// `kin lab run` does for users; labs whose capabilities the cluster lacks
// are skipped by the runner and say so.
func TestLabs(t *testing.T) {
	c := newCluster(t)
	_, file, _, _ := runtime.Caller(0)
	labs := filepath.Join(filepath.Dir(file), "..", "..", "examples", "labs")
	out, err := c.kin("lab", "run", labs)
	t.Log("\n" + out)
	if err != nil {
		t.Fatalf("kin lab run: %v", err)
	}
	if !strings.Contains(out, "passed") {
		t.Fatalf("no lab summary in the output")
	}
}
