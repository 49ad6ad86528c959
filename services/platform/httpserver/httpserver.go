// Package httpserver runs an http.Server with timeouts and a graceful
// shutdown, the same way in every service.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"go.uber.org/zap"
)

// Config holds the listen address and the server's timeouts.
type Config struct {
	Addr              string
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	// ShutdownTimeout bounds how long in-flight requests may finish after a stop signal.
	ShutdownTimeout time.Duration
}

// Defaults are sane for a JSON API behind a sidecar.
func Defaults(addr string) Config {
	return Config{
		Addr:              addr,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ShutdownTimeout:   15 * time.Second,
	}
}

// StartupTask is work a service finishes after it starts serving, such as
// reading a key from its sidecar: the sidecar waits for the app to listen, so
// the app cannot wait for the sidecar first. The service reports not ready
// until the task is done; if it fails or overruns Timeout, the server stops
// and Run returns the task's error.
type StartupTask struct {
	Name    string
	Timeout time.Duration
	Run     func(ctx context.Context) error
}

// Run listens on cfg.Addr and serves h until ctx is cancelled or a startup
// task fails, then stops accepting connections and waits up to
// cfg.ShutdownTimeout for in-flight requests.
func Run(ctx context.Context, cfg Config, h http.Handler, log *zap.Logger, tasks ...StartupTask) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return Serve(ctx, ln, cfg, h, log, tasks...)
}

// Serve is Run on an existing listener (tests pass one on port 0).
func Serve(ctx context.Context, ln net.Listener, cfg Config, h http.Handler, log *zap.Logger, tasks ...StartupTask) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	for _, t := range tasks {
		go func() {
			tctx, tcancel := context.WithTimeout(ctx, t.Timeout)
			defer tcancel()
			if err := t.Run(tctx); err != nil {
				cancel(fmt.Errorf("startup task %s: %w", t.Name, err))
				return
			}
			log.Info("startup task done", zap.String("task", t.Name))
		}()
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          zap.NewStdLog(log.Named("http")),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("http server listening", zap.String("addr", ln.Addr().String()))

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	failed := context.Cause(ctx)
	if errors.Is(failed, context.Canceled) {
		failed = nil // a normal stop
	}
	log.Info("http server shutting down", zap.Duration("grace", cfg.ShutdownTimeout))
	sctx, stop := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer stop()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("http server stopped")
	return failed
}
