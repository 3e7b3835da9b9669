package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"kin/internal/daemon"
	"kin/internal/lab"
)

// labCapabilities detects what the running cluster can do; the capability
// detector sets it. When it is nil and --capabilities is not given, every lab
// runs whatever it requires.
var labCapabilities func(ctx context.Context, cluster string) (lab.Capabilities, error)

// labCommand groups the commands that run and check lab files.
func labCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run lab files: kubectl and shell steps with checked output",
	}
	cmd.AddCommand(labRunCommand(), labCheckCommand())
	return cmd
}

func labRunCommand() *cobra.Command {
	var caps []string
	var localHost string
	cmd := &cobra.Command{
		Use:   "run FILE|DIR...",
		Short: "Run lab files against the cluster, printing each step and checking its output",
		Long: "Run lab files against the cluster, printing each step and checking its output.\n" +
			"A directory stands for the .yaml files in it. The format is described in examples/labs/README.md.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var stated lab.Capabilities
			if cmd.Flags().Changed("capabilities") {
				names := splitList(caps)
				for _, c := range names {
					if !slices.Contains(lab.KnownCapabilities, c) {
						return fmt.Errorf("unknown capability %q in --capabilities (known: %s)", c, strings.Join(lab.KnownCapabilities, ", "))
					}
				}
				stated = lab.NewCapabilitySet(names...)
			}
			labs, err := lab.LoadAll(args)
			if err != nil {
				return err
			}
			paths, err := daemon.PathsFor(globalName)
			if err != nil {
				return err
			}
			if _, err := os.Stat(paths.Kubeconfig()); err != nil {
				return fmt.Errorf("cluster %q has no kubeconfig: run `kin up --name %s` first", globalName, globalName)
			}
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding the kin binary: %w", err)
			}
			ex, err := lab.NewKinExecutor(self, globalName, paths.Kubeconfig())
			if err != nil {
				return err
			}
			defer ex.Close()

			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			runner := &lab.Runner{Exec: ex, Out: os.Stdout, LocalHost: localHost}
			switch {
			case stated != nil:
				runner.Capabilities = stated
			case labCapabilities != nil:
				if runner.Capabilities, err = labCapabilities(ctx, globalName); err != nil {
					return fmt.Errorf("detecting the cluster's capabilities: %w", err)
				}
			}
			results := runner.RunAll(ctx, labs)
			var failed []string
			for _, res := range results {
				if res.Status != lab.Failed {
					continue
				}
				failed = append(failed, res.Lab.Name)
				fmt.Fprintf(os.Stderr, "FAIL: %v\n", res.Err)
				if se, ok := res.Err.(*lab.StepError); ok && se.Output != "" {
					fmt.Fprintf(os.Stderr, "actual output:\n%s", indent(se.Output))
				}
			}
			fmt.Printf("%s\n", lab.Summary(results))
			if ctx.Err() != nil {
				return fmt.Errorf("interrupted after %d of %d labs", len(results), len(labs))
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d labs failed (%s); the lines above show the failed steps and their output",
					len(failed), len(labs), strings.Join(failed, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&caps, "capabilities", nil,
		"assume the cluster has exactly these capabilities (nodes,dns,loadbalancer,ingress) instead of detecting them")
	cmd.Flags().StringVar(&localHost, "local-host", "cp-k8s", "host name the prompt shows for local commands")
	return cmd
}

func labCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE|DIR...",
		Short: "Check lab files without running them",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			labs, err := lab.LoadAll(args)
			if err != nil {
				return err
			}
			for _, l := range labs {
				fmt.Printf("ok  %s (%s): %d steps, %d in cleanup\n", l.Name, l.Where(), len(l.Steps), len(l.Cleanup))
			}
			return nil
		},
	}
}

// splitList drops empty entries from a comma-separated flag value.
func splitList(items []string) []string {
	var out []string
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// indent prefixes every line of text with four spaces.
func indent(text string) string {
	lines := strings.SplitAfter(strings.TrimRight(text, "\n"), "\n")
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("    " + strings.TrimRight(l, "\n") + "\n")
	}
	return b.String()
}
