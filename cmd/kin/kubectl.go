package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/component-base/cli"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"

	"kin/internal/daemon"
)

// kubectlCommand runs the real kubectl, built in, against the cluster.
func kubectlCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "kubectl [ARGS...]",
		Short:              "Run kubectl (built in) against the cluster",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, args := splitAtSubcommand(os.Args[1:], "kubectl")
			paths, err := daemon.PathsFor(name)
			if err != nil {
				return err
			}
			if _, err := os.Stat(paths.Kubeconfig()); err != nil {
				return fmt.Errorf("cluster %q has no kubeconfig: run `kin up --name %s` first", name, name)
			}
			os.Setenv("KUBECONFIG", paths.Kubeconfig())
			streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
			kc := kubectlcmd.NewDefaultKubectlCommandWithArgs(kubectlcmd.KubectlOptions{
				Arguments: append([]string{"kubectl"}, args...),
				ConfigFlags: genericclioptions.NewConfigFlags(true).WithDeprecatedPasswordFlag().
					WithDiscoveryBurst(300).WithDiscoveryQPS(50.0).WithWarningPrinter(streams),
				IOStreams: streams,
			})
			kc.SetArgs(args)
			os.Exit(cli.Run(kc))
			return nil
		},
	}
}

// splitAtSubcommand finds a global --name given before the subcommand and
// returns the arguments after it: cobra parses no flags for commands that
// take raw arguments, and hands them the global ones too.
func splitAtSubcommand(args []string, sub string) (name string, rest []string) {
	name = globalName
	for i := 0; i < len(args); i++ {
		switch {
		case args[i] == sub:
			return name, args[i+1:]
		case args[i] == "--name" && i+1 < len(args):
			name = args[i+1]
			i++
		case strings.HasPrefix(args[i], "--name="):
			name = strings.TrimPrefix(args[i], "--name=")
		}
	}
	return name, nil
}
