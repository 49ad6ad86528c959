// Command devrun runs the local topology of dapr.yaml without the Dapr CLI.
//
//	devrun [up]        placement, scheduler and every app beside its daprd (make run)
//	devrun -profile P  the same with a component profile (components/profiles/P) over components/
//	devrun infra       sentry, placement and scheduler only (for the Dapr CLI)
//	devrun app ID...   the given apps and their sidecars; the control plane runs elsewhere (Tilt)
//	devrun secrets     create the development secrets if missing
//	devrun token ID    print the app's Dapr API token (for tools that call its sidecar)
//	devrun config KEY [VALUE]  set a live key in the local configuration store (no VALUE: remove it)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/daprshop/devrun/runner"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devrun:", err)
		os.Exit(1)
	}
}

func run() error {
	runFile := flag.String("f", "dapr.yaml", "multi-app run file")
	verbose := flag.Bool("v", false, "show every daprd log line, not only warnings and errors")
	profiles := flag.String("profile", "", "component profiles to apply, comma-separated (see components/profiles)")
	public := flag.Bool("public", false, "open the gateway's port to the network (everything else listens on loopback)")
	trace := flag.String("trace", "", "export every sidecar's spans over OTLP/gRPC to this host:port (an OpenTelemetry Collector, Jaeger, ...), or to a collector devrun starts: -trace collector")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: devrun [-f dapr.yaml] [-v] [-public] [-trace HOST:PORT] [-profile NAME[,NAME]] [up | infra | app ID... | secrets | token ID | config KEY [VALUE] | npm-ci DIR]")
		flag.PrintDefaults()
	}
	flag.Parse()

	opts := runner.Options{RunFile: *runFile, Verbose: *verbose, PublicGateway: *public, TraceEndpoint: *trace}
	if *profiles != "" {
		opts.Profiles = strings.Split(*profiles, ",")
	}
	switch cmd := flag.Arg(0); cmd {
	case "", "up":
	case "infra":
		opts.NoApps = true
	case "app":
		if flag.NArg() < 2 {
			return fmt.Errorf("app: name at least one app ID")
		}
		opts.Apps = flag.Args()[1:]
		opts.NoControlPlane = true
	case "secrets":
		return runner.EnsureDevSecrets(filepath.Dir(*runFile), os.Stdout)
	case "token":
		tokens, err := runner.EnsureTokens(filepath.Dir(*runFile), flag.Args()[1:])
		if err != nil || flag.NArg() != 2 {
			return fmt.Errorf("token: name one app ID (%v)", err)
		}
		fmt.Println(tokens[flag.Arg(1)].API)
		return nil
	case "npm-ci":
		// What a run does before starting a Node.js app, for the targets
		// that use its dependencies without a run (make test-node).
		if flag.NArg() != 2 {
			return fmt.Errorf("npm-ci: name one folder with a package-lock.json")
		}
		return runner.NPMInstall(context.Background(), flag.Arg(1), os.Stdout)
	case "config":
		if flag.NArg() < 2 || flag.NArg() > 3 {
			return fmt.Errorf("config: want KEY [VALUE]")
		}
		if err := runner.SetConfig(filepath.Dir(*runFile), opts.Profiles, flag.Arg(1), flag.Arg(2)); err != nil {
			return err
		}
		if flag.Arg(2) == "" {
			fmt.Printf("%s removed: the services use their start-up value\n", flag.Arg(1))
		} else {
			fmt.Printf("%s = %s\n", flag.Arg(1), flag.Arg(2))
		}
		return nil
	default:
		flag.Usage()
		return fmt.Errorf("unknown command %q", cmd)
	}

	// If whatever started us (make, Tilt, a shell) dies, stop cleanly too
	// instead of leaving the topology running with nobody to stop it.
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := runner.Start(ctx, opts)
	if err != nil {
		return err
	}
	fmt.Print(runner.Banner(r))
	select {
	case <-ctx.Done():
		fmt.Println("\nstopping…")
		r.Stop()
		fmt.Println("stopped.")
		return nil
	case err := <-r.Failed():
		r.Stop()
		return err
	}
}
