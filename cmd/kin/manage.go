package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"kin/internal/daemon"
	"kin/internal/kubeconfig"
)

func downCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Stop a cluster and remove everything it made",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			if err := daemon.Stop(globalName, 10*time.Second); err != nil {
				return err
			}
			if err := daemon.Remove(globalName); err != nil {
				return err
			}
			fmt.Printf("Cluster %q deleted in %s.\n", globalName, time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

func statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show whether a cluster is running and where its API is",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := daemon.PathsFor(globalName)
			if err != nil {
				return err
			}
			pid, running, err := daemon.Running(globalName)
			if err != nil {
				return err
			}
			if !running {
				if _, err := os.Stat(paths.Dir); err == nil {
					fmt.Printf("Cluster %q is stopped (state in %s; `kin up` resumes it).\n", globalName, paths.Dir)
				} else {
					fmt.Printf("Cluster %q does not exist.\n", globalName)
				}
				return nil
			}
			cluster, err := loadCluster(paths)
			if err != nil {
				return err
			}
			fmt.Printf("Cluster %q is running (pid %d).\nAPI server: %s\nState: %s\nKubeconfig: %s\n",
				globalName, pid, cluster.Server, paths.Dir, paths.Kubeconfig())
			return nil
		},
	}
}

func kubeconfigCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "kubeconfig",
		Short: "Print the cluster's kubeconfig",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := daemon.PathsFor(globalName)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(paths.Kubeconfig())
			if err != nil {
				return fmt.Errorf("cluster %q has no kubeconfig yet: run `kin up --name %s` first", globalName, globalName)
			}
			os.Stdout.Write(data)
			return nil
		},
	}
}

// loadCluster reads the cluster's kubeconfig back into its parts.
func loadCluster(paths daemon.Paths) (kubeconfig.Cluster, error) {
	cfg, err := clientcmd.LoadFromFile(paths.Kubeconfig())
	if err != nil {
		return kubeconfig.Cluster{}, fmt.Errorf("reading %s: %w", paths.Kubeconfig(), err)
	}
	name := kubeconfig.ContextName(paths.Name)
	c, ok := cfg.Clusters[name]
	u, ok2 := cfg.AuthInfos[name]
	if !ok || !ok2 {
		return kubeconfig.Cluster{}, fmt.Errorf("%s has no context %s", paths.Kubeconfig(), name)
	}
	return kubeconfig.Cluster{Name: paths.Name, Server: c.Server, CAPEM: c.CertificateAuthorityData, Token: u.Token}, nil
}
