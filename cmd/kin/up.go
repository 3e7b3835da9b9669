package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"kin/internal/daemon"
	"kin/internal/kubeconfig"
)

func upCommand() *cobra.Command {
	var foreground bool
	var configPath string
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create or resume a cluster; returns when it is ready",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if foreground {
				return runForeground(cmd.Context(), configPath)
			}
			return runBackground(cmd.Context(), configPath)
		},
	}
	cmd.Flags().BoolVar(&foreground, "foreground", false, "keep the cluster daemon in the foreground (CI, systemd)")
	cmd.Flags().StringVar(&configPath, "config", "", "cluster config file (YAML, kind-like); default: the config the cluster has, or the default topology")
	return cmd
}

func printStep(step string, took time.Duration) {
	fmt.Printf(" ✓ %s (%s)\n", step, took.Round(100*time.Microsecond))
}

func runBackground(ctx context.Context, configPath string) error {
	if pid, running, err := daemon.Running(globalName); err != nil {
		return err
	} else if running {
		fmt.Printf("Cluster %q is already running (pid %d).\n", globalName, pid)
		return nil
	}
	fmt.Printf("Starting cluster %q ...\n", globalName)
	start := time.Now()
	var args []string
	if configPath != "" {
		abs, err := filepath.Abs(configPath)
		if err != nil {
			return err
		}
		args = []string{"--config", abs}
	}
	if err := daemon.Start(ctx, globalName, args, printStep); err != nil {
		return fmt.Errorf("%w; run `kin down --name %s` to clean up, then try again", err, globalName)
	}
	return finishUp(start)
}

// finishUp merges the kubeconfig context and prints how to use the cluster.
func finishUp(start time.Time) error {
	paths, err := daemon.PathsFor(globalName)
	if err != nil {
		return err
	}
	cluster, err := loadCluster(paths)
	if err != nil {
		return err
	}
	where, err := cluster.Merge()
	if err != nil {
		return err
	}
	fmt.Printf("Cluster %q is ready in %s. kubectl context %q is set in %s.\n",
		globalName, time.Since(start).Round(time.Millisecond), kubeconfig.ContextName(globalName), where)
	return nil
}

func runForeground(ctx context.Context, configPath string) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	rep := daemon.ReporterFromEnv()
	start := time.Now()
	interactive := !rep.HasParent()
	progress := rep.Step
	if interactive {
		fmt.Printf("Starting cluster %q in the foreground ...\n", globalName)
		progress = printStep
	}
	if addr := os.Getenv("KIN_PPROF"); addr != "" {
		// KIN_PPROF=127.0.0.1:6060 serves Go's profiler from the daemon, for benchmarks.
		go http.ListenAndServe(addr, nil)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return daemon.Run(ctx, daemon.Options{Name: globalName, ConfigPath: configPath, Progress: progress, Logger: logger}, func(kubeconfig.Cluster) {
		if interactive {
			if err := finishUp(start); err != nil {
				fmt.Fprintf(os.Stderr, "kin: %v\n", err)
			}
		}
		rep.Ready()
	})
}
