// Package kubeconfig writes the cluster's kubeconfig and merges its context
// into the user's kubeconfig (the file $KUBECONFIG or ~/.kube/config names),
// the way kind does, and removes it again on teardown.
package kubeconfig

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Cluster is what a kubeconfig needs to reach one kin cluster.
type Cluster struct {
	Name   string // the kin cluster name; the context is "kin-" + Name
	Server string // https://127.0.0.1:PORT
	CAPEM  []byte
	Token  string
}

// ContextName is the kubeconfig context of a cluster, as kind names its own.
func ContextName(cluster string) string { return "kin-" + cluster }

// Config returns a kubeconfig holding only this cluster, as its current context.
func (c Cluster) Config() *clientcmdapi.Config {
	name := ContextName(c.Name)
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: c.CAPEM}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: c.Token}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	return cfg
}

// Bytes renders the kubeconfig as YAML.
func (c Cluster) Bytes() ([]byte, error) {
	return clientcmd.Write(*c.Config())
}

// WriteFile writes the kubeconfig with mode 0600: it holds a credential.
func (c Cluster) WriteFile(path string) error {
	data, err := c.Bytes()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	return os.Rename(tmp, path)
}

// RESTConfig returns a client-go configuration for in-process clients, with
// rate limits raised: kin's own components talk to a local server.
func (c Cluster) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            c.Server,
		BearerToken:     c.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.CAPEM},
		QPS:             5000,
		Burst:           10000,
	}
}

// userConfigPath is the file kubectl reads by default: the first entry of
// $KUBECONFIG, else ~/.kube/config.
func userConfigPath() string {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if len(rules.Precedence) > 0 {
		return rules.Precedence[0]
	}
	return rules.GetDefaultFilename()
}

// Merge adds or replaces the cluster's context in the user's kubeconfig and
// makes it current.
func (c Cluster) Merge() (string, error) {
	path := userConfigPath()
	cfg, err := loadOrEmpty(path)
	if err != nil {
		return path, err
	}
	mine := c.Config()
	name := ContextName(c.Name)
	cfg.Clusters[name] = mine.Clusters[name]
	cfg.AuthInfos[name] = mine.AuthInfos[name]
	cfg.Contexts[name] = mine.Contexts[name]
	cfg.CurrentContext = name
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return path, fmt.Errorf("kubeconfig: %w", err)
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return path, fmt.Errorf("kubeconfig: %w", err)
	}
	return path, os.Chmod(path, 0o600)
}

// Unmerge removes the cluster's context from the user's kubeconfig.
func Unmerge(cluster string) error {
	path := userConfigPath()
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	cfg, err := loadOrEmpty(path)
	if err != nil {
		return err
	}
	name := ContextName(cluster)
	if _, ok := cfg.Contexts[name]; !ok {
		return nil
	}
	delete(cfg.Clusters, name)
	delete(cfg.AuthInfos, name)
	delete(cfg.Contexts, name)
	if cfg.CurrentContext == name {
		cfg.CurrentContext = ""
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	return nil
}

func loadOrEmpty(path string) (*clientcmdapi.Config, error) {
	cfg, err := clientcmd.LoadFromFile(path)
	if os.IsNotExist(err) {
		return clientcmdapi.NewConfig(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: reading %s: %w", path, err)
	}
	return cfg, nil
}
