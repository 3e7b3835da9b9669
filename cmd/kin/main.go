// Command kin builds a Kubernetes network on one Linux machine out of
// network namespaces and serves the Kubernetes API for it. This package only
// wires subcommands to the internal packages.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// globalName is the --name flag shared by every subcommand.
var globalName string

func main() {
	root := &cobra.Command{
		Use:           "kin",
		Short:         "Kubernetes in namespaces: a real multi-node Kubernetes network on one machine",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	def := os.Getenv("KIN_NAME")
	if def == "" {
		def = "kin"
	}
	root.PersistentFlags().StringVar(&globalName, "name", def, "cluster name (also KIN_NAME)")
	root.AddCommand(upCommand(), downCommand(), statusCommand(), kubeconfigCommand(), kubectlCommand(), labCommand(), execCommand())
	if err := root.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "kin: %v\n", err)
		os.Exit(1)
	}
}
