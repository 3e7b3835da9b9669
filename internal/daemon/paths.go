package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// DefaultStateRoot is where clusters keep their state unless KIN_STATE_DIR says otherwise.
const DefaultStateRoot = "/var/lib/kin"

var validName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$`)

// Paths names the files of one cluster's state directory.
type Paths struct {
	Name string
	Dir  string
}

// PathsFor returns the state paths of cluster name.
func PathsFor(name string) (Paths, error) {
	if !validName.MatchString(name) {
		return Paths{}, fmt.Errorf("invalid cluster name %q: use up to 32 lowercase letters, digits and '-'", name)
	}
	root := os.Getenv("KIN_STATE_DIR")
	if root == "" {
		root = DefaultStateRoot
	}
	return Paths{Name: name, Dir: filepath.Join(root, name)}, nil
}

func (p Paths) Store() string            { return filepath.Join(p.Dir, "store.db") }
func (p Paths) PKI() string              { return filepath.Join(p.Dir, "pki") }
func (p Paths) Kubeconfig() string       { return filepath.Join(p.Dir, "kubeconfig") }
func (p Paths) PIDFile() string          { return filepath.Join(p.Dir, "daemon.pid") }
func (p Paths) Log() string              { return filepath.Join(p.Dir, "daemon.log") }
func (p Paths) PortFile() string         { return filepath.Join(p.Dir, "apiserver.port") }
func (p Paths) CapabilitiesFile() string { return filepath.Join(p.Dir, "capabilities") }
func (p Paths) ConfigFile() string       { return filepath.Join(p.Dir, "cluster.yaml") }
