// Package bootstrap is the part of main every service shares: the settings
// every service reads, the logger, stop signals and a single exit point.
package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/daprshop/platform/envconfig"
	"github.com/daprshop/platform/health"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/httpserver"
	"github.com/daprshop/platform/liveconfig"
	"github.com/daprshop/platform/logging"
	"github.com/daprshop/platform/middleware"
	"github.com/daprshop/platform/sidecar"
)

// Base holds the settings every service reads. Embed it in a service's
// Config; APP_ID and APP_PORT default to the service's name and port.
type Base struct {
	Port int `env:"APP_PORT" validate:"min=0,max=65535"`
	// ListenAddress is where the service listens: loopback, beside its
	// sidecar, unless it must be reached from elsewhere (a pod's probes, the
	// gateway's public port).
	ListenAddress string `env:"APP_LISTEN_ADDRESS" default:"127.0.0.1" validate:"ip"`
	// AdminPort, when set, moves /readyz and /metrics off the service's port
	// to this one, on AdminListenAddress (the gateway's public port shows
	// neither).
	AdminPort          int    `env:"ADMIN_PORT" validate:"min=0,max=65535"`
	AdminListenAddress string `env:"ADMIN_LISTEN_ADDRESS" default:"127.0.0.1" validate:"ip"`
	// Profiling serves Go's pprof endpoints on the admin port (README,
	// "Measured here"); it needs ADMIN_PORT.
	Profiling bool   `env:"PROFILING"`
	AppID     string `env:"APP_ID"`
	LogLevel  string `env:"LOG_LEVEL" default:"info" validate:"oneof=debug info warn error"`
	// SecretStore is the Dapr secret store component the service reads keys from.
	SecretStore string `env:"SECRET_STORE" default:"secretstore" validate:"required"`
	// StartupTimeout bounds start-up work that waits on the sidecar.
	StartupTimeout time.Duration `env:"STARTUP_TIMEOUT" default:"2m" validate:"min=1s"`
	// ConfigStore is the Dapr configuration store of the live keys (README,
	// "Live configuration"); empty turns live changes off.
	ConfigStore string `env:"CONFIG_STORE" default:"configstore"`
	Sidecar     sidecar.Config
}

// WatchConfig follows keys in the service's configuration store until ctx
// ends, offering every change to apply (see package liveconfig). It
// returns at once; with no store configured it does nothing.
func (b *Base) WatchConfig(ctx context.Context, client dapr.Client, keys []string, apply liveconfig.Apply, log *zap.Logger) {
	if b.ConfigStore == "" {
		return
	}
	go liveconfig.New(client.GrpcClient(), b.ConfigStore, keys, apply, log).Run(ctx)
}

// Settings gives Load and Main access to the embedded Base.
func (b *Base) Settings() *Base { return b }

// Addr is the listen address of the service's HTTP server.
func (b *Base) Addr() string { return net.JoinHostPort(b.ListenAddress, strconv.Itoa(b.Port)) }

// Config is a service's configuration struct embedding Base.
type Config interface{ Settings() *Base }

// Load fills cfg from the environment (see package envconfig); name and port
// are the defaults of APP_ID and APP_PORT.
func Load(cfg Config, name string, port int) error {
	if err := envconfig.Load(cfg); err != nil {
		return err
	}
	b := cfg.Settings()
	if b.AppID == "" {
		b.AppID = name
	}
	if b.Port == 0 {
		b.Port = port
	}
	return nil
}

// Main is the whole of a service's main: it loads cfg, builds the JSON
// logger, logs the configuration (secrets masked) and calls run with a
// context that SIGINT or SIGTERM cancels. If run fails, Main prints the
// error and exits with status 1; it is the only place a service exits.
func Main[C Config](name string, port int, cfg C, run func(context.Context, C, *zap.Logger) error) {
	if err := mainErr(name, port, cfg, run); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

func mainErr[C Config](name string, port int, cfg C, run func(context.Context, C, *zap.Logger) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Load(cfg, name, port); err != nil {
		return err
	}
	b := cfg.Settings()
	log, err := logging.New(b.AppID, b.LogLevel)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	log.Info("starting", envconfig.Fields(cfg)...)
	return run(ctx, cfg, log)
}

// Serve serves router as every service does until ctx ends: the standard
// middleware and operational endpoints (httpapi.Handler), the sidecar's app
// token, and a /readyz that checks the sidecar plus checks; tasks run in the
// background after the server starts (see httpserver.StartupTask).
func (b *Base) Serve(ctx context.Context, router *mux.Router, log *zap.Logger, checks health.Checks, tasks ...httpserver.StartupTask) error {
	return b.ServeWith(ctx, router, httpapi.Options{Log: log, Ready: checks}, tasks...)
}

// ServeWith is Serve with the options a service sets beyond its checks
// (the gateway's edge and admin routes); the rest of opts is filled here.
func (b *Base) ServeWith(ctx context.Context, router *mux.Router, opts httpapi.Options, tasks ...httpserver.StartupTask) error {
	log := opts.Log
	if b.Profiling && b.AdminPort == 0 {
		return errors.New("PROFILING needs ADMIN_PORT: profiles are served on the admin port only")
	}
	opts.Profiling = b.Profiling
	ready := health.Checks{"sidecar": sidecar.Check(b.Sidecar, &http.Client{Timeout: 2 * time.Second})}
	maps.Copy(ready, opts.Ready)
	opts.Metrics = middleware.NewHTTPMetrics(opts.Collectors...)
	opts.AppToken = b.Sidecar.AppToken
	opts.Ready = ready
	opts.SeparateAdmin = b.AdminPort > 0
	handler := httpapi.Handler(router, opts)
	if b.AdminPort == 0 {
		return httpserver.Run(ctx, httpserver.Defaults(b.Addr()), handler, log, tasks...)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	admin := make(chan error, 1)
	go func() {
		addr := net.JoinHostPort(b.AdminListenAddress, strconv.Itoa(b.AdminPort))
		admin <- httpserver.Run(ctx, httpserver.Defaults(addr), httpapi.AdminHandler(opts), log.Named("admin"))
	}()
	err := httpserver.Run(ctx, httpserver.Defaults(b.Addr()), handler, log, tasks...)
	cancel()
	if aerr := <-admin; err == nil {
		err = aerr
	}
	return err
}
