package lab

import (
	"fmt"
	"strings"
)

// Kind says what kind of place a step's command runs in.
type Kind string

// The kinds of places a command can run in.
const (
	// Local is the machine running kin, with kubectl pointed at the cluster.
	Local Kind = "local"
	// Node is inside a cluster node's namespaces.
	Node Kind = "node"
	// Host is inside an external host's namespaces (the client laptop).
	Host Kind = "host"
	// Pod is inside a pod's namespaces.
	Pod Kind = "pod"
)

// Target is where a step's command runs.
type Target struct {
	Kind Kind
	// Name is the node, host or pod name.
	Name string
	// Namespace is the pod's namespace; empty means the default namespace.
	Namespace string
	// Container is the pod's container; empty means the default container.
	Container string
	// Dir is the working directory of local commands; empty means the
	// current directory.
	Dir string
}

// ParseTarget parses a step's "on" value: "" or "local", "node/NAME" or a
// bare node name, "host/NAME", "pod/NAME" or "pod/NAMESPACE/NAME".
func ParseTarget(s string) (Target, error) {
	if s == "" || s == "local" {
		return Target{Kind: Local}, nil
	}
	kind, rest, found := strings.Cut(s, "/")
	if !found {
		kind, rest = "node", s
	}
	t := Target{Name: rest}
	switch kind {
	case "node":
		t.Kind = Node
	case "host":
		t.Kind = Host
	case "pod":
		t.Kind = Pod
		if ns, name, ok := strings.Cut(rest, "/"); ok {
			t.Namespace, t.Name = ns, name
			if !objName.MatchString(ns) {
				return Target{}, fmt.Errorf("on: %q: invalid namespace %q", s, ns)
			}
		}
	default:
		return Target{}, fmt.Errorf("on: %q: want local, node/NAME, host/NAME, pod/NAME or pod/NAMESPACE/NAME", s)
	}
	if !objName.MatchString(t.Name) {
		return Target{}, fmt.Errorf("on: %q: invalid %s name %q", s, t.Kind, t.Name)
	}
	return t, nil
}

// String returns the target in the form ParseTarget reads.
func (t Target) String() string {
	switch t.Kind {
	case Local, "":
		return "local"
	case Pod:
		if t.Namespace != "" {
			return "pod/" + t.Namespace + "/" + t.Name
		}
	}
	return string(t.Kind) + "/" + t.Name
}

// PromptHost is the host name a transcript prompt shows for the target;
// local commands show localHost.
func (t Target) PromptHost(localHost string) string {
	if t.Kind == Local || t.Kind == "" {
		return localHost
	}
	return t.Name
}
