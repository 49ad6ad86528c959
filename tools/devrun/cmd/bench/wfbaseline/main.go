// Command wfbaseline is the baseline `make bench` compares the checkout
// with: the shape of Dapr's own workflow performance test (a workflow of 5
// chained activities that do nothing). The bench runs it in place of the
// order service, beside the order service's very sidecar configuration,
// components and control plane, so the ratio measures our checkout's work
// and not the workflow engine.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dapr/durabletask-go/workflow"

	"github.com/daprshop/platform/sidecar"
)

// Workflow is the name the bench starts.
const Workflow = "PerfBaseline"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "wfbaseline:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cfg sidecar.Config
	cfg.Host = "127.0.0.1"
	if _, err := fmt.Sscan(os.Getenv("DAPR_GRPC_PORT"), &cfg.GRPCPort); err != nil {
		return fmt.Errorf("DAPR_GRPC_PORT: %w", err)
	}
	cfg.APIToken = os.Getenv("DAPR_API_TOKEN")
	client, err := sidecar.Dial(cfg)
	if err != nil {
		return err
	}
	defer client.Close()

	r := workflow.NewRegistry()
	noop := func(ctx workflow.ActivityContext) (any, error) {
		var in int
		err := ctx.GetInput(&in)
		return in + 1, err
	}
	if err := r.AddActivityN("NoOp", noop); err != nil {
		return err
	}
	if err := r.AddWorkflowN(Workflow, func(ctx *workflow.WorkflowContext) (any, error) {
		n := 0
		for range 5 {
			if err := ctx.CallActivity("NoOp", workflow.WithActivityInput(n)).Await(&n); err != nil {
				return nil, err
			}
		}
		return n, nil
	}); err != nil {
		return err
	}
	wf := workflow.NewClient(client.GrpcClientConn())
	ready := make(chan struct{})
	go func() {
		for delay := 100 * time.Millisecond; ctx.Err() == nil; delay = min(2*delay, 2*time.Second) {
			if err := wf.StartWorker(ctx, r); err == nil {
				close(ready)
				return
			}
			time.Sleep(delay)
		}
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-ready:
			w.WriteHeader(http.StatusOK)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	srv := &http.Server{Addr: net.JoinHostPort("127.0.0.1", os.Getenv("APP_PORT")), Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		return err
	}
	return nil
}
