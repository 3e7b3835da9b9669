// Package e2e starts the real kin binary and drives it with the real kubectl
// (the machine's and the one built into kin), as a user would.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// kinBin is the kin binary built once for the whole run.
var kinBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kin-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kinBin = filepath.Join(dir, "kin")
	if env := os.Getenv("KIN_BINARY"); env != "" {
		kinBin = env
	} else {
		build := exec.Command("go", "build", "-o", kinBin, "kin/cmd/kin")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building kin:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cluster is one kin cluster started for a test, with its own state
// directory and user kubeconfig so runs never collide.
type cluster struct {
	t          *testing.T
	name       string
	stateDir   string
	kubeconfig string // the user's kubeconfig kin merges its context into
	env        []string
}

// newCluster runs `kin up` for a uniquely named cluster and registers its
// teardown (`kin down`), which also runs when the test fails.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("kin needs root (network namespaces and /var/lib/kin); run the tests as root")
	}
	base := t.TempDir()
	c := &cluster{
		t:          t,
		name:       fmt.Sprintf("e2e-%06x", rand.IntN(1<<24)),
		stateDir:   filepath.Join(base, "state"),
		kubeconfig: filepath.Join(base, "user-kubeconfig"),
	}
	c.env = append(os.Environ(), "KIN_STATE_DIR="+c.stateDir, "KUBECONFIG="+c.kubeconfig)
	t.Cleanup(c.down)
	out, err := c.kin("up")
	if err != nil {
		t.Fatalf("kin up: %v\n%s", err, out)
	}
	return c
}

func (c *cluster) down() {
	if out, err := c.kin("down"); err != nil {
		c.t.Errorf("kin down: %v\n%s", err, out)
	}
}

// kin runs the kin binary for this cluster and returns its combined output.
func (c *cluster) kin(args ...string) (string, error) {
	return c.run(kinBin, append([]string{"--name", c.name}, args...)...)
}

func (c *cluster) run(bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = c.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// kubectl is one way of running kubectl against the cluster.
type kubectl struct {
	name string
	run  func(stdin string, args ...string) (string, error)
}

// kubectls returns the kubectls to test with: the one built into kin, and
// the machine's own when it has one.
func (c *cluster) kubectls() []kubectl {
	builtIn := kubectl{name: "kin-kubectl", run: func(stdin string, args ...string) (string, error) {
		return c.runStdin(stdin, kinBin, append([]string{"--name", c.name, "kubectl"}, args...)...)
	}}
	list := []kubectl{builtIn}
	if path, err := exec.LookPath("kubectl"); err == nil {
		list = append(list, kubectl{name: "system-kubectl", run: func(stdin string, args ...string) (string, error) {
			return c.runStdin(stdin, path, append([]string{"--context", "kin-" + c.name}, args...)...)
		}})
	} else {
		c.t.Log("no kubectl on PATH: testing only kin's built-in kubectl")
	}
	return list
}

func (c *cluster) runStdin(stdin, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = c.env
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
