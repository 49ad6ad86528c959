// Package service wires the order service in one place.
package service

import (
	"context"
	"time"

	"github.com/dapr/durabletask-go/workflow"
	"go.uber.org/zap"

	"github.com/daprshop/order/adapters"
	"github.com/daprshop/order/app"
	"github.com/daprshop/order/ports"
	"github.com/daprshop/platform/backoff"
	"github.com/daprshop/platform/bootstrap"
	"github.com/daprshop/platform/daprjobs"
	"github.com/daprshop/platform/daprpubsub"
	"github.com/daprshop/platform/health"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/httpserver"
	"github.com/daprshop/platform/invoke"
	"github.com/daprshop/platform/sidecar"
	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/platform/validate"
)

// Name and Port are the defaults of APP_ID and APP_PORT.
const (
	Name = "order"
	Port = 8003
)

// Config is read from the environment at start (see README, "Configuration").
type Config struct {
	bootstrap.Base
	StateStore string `env:"ORDER_STATE_STORE" default:"order-store" validate:"required"`
	PubSub     string `env:"PUBSUB_NAME" default:"pubsub" validate:"required"`
	// OrdersListed: a buyer's order list keeps the newest this many (older
	// orders stay readable by ID).
	OrdersListed int `env:"ORDERS_LISTED" default:"1000" validate:"min=1,max=100000"`
	// Fulfilment is how long a paid order waits before it ships; it may be
	// cancelled meanwhile.
	Fulfilment time.Duration `env:"FULFILMENT_DELAY" default:"5s" validate:"min=0"`
	// ReservationTTL is how long stock is held for an order being paid.
	ReservationTTL time.Duration `env:"RESERVATION_TTL" default:"15m" validate:"min=1s"`
	// StepAttempts bounds the retries of each checkout step before it
	// compensates: 10 attempts, 0.5 s doubling up to 10 s apart, span about
	// a minute, so that an outage of a store or a service (a restart, an
	// open breaker) delays an order rather than cancels it.
	StepAttempts int `env:"CHECKOUT_STEP_ATTEMPTS" default:"10" validate:"min=1,max=100"`
	// CallTimeout bounds each call to another service.
	CallTimeout time.Duration `env:"CALL_TIMEOUT" default:"15s" validate:"min=100ms"`
	// StartSweep is how often the orders written down for a checkout are
	// checked for one a crash left unstarted (pending for over a minute).
	StartSweep time.Duration `env:"START_SWEEP" default:"30s" validate:"min=1s"`
}

// Run serves the order service and runs its checkouts until ctx ends.
func Run(ctx context.Context, cfg *Config, log *zap.Logger) error {
	client, err := sidecar.Dial(cfg.Sidecar)
	if err != nil {
		return err
	}
	defer client.Close()
	wf := workflow.NewClient(client.GrpcClientConn())
	state := statestore.New(client, cfg.StateStore)
	store := adapters.NewDaprStore(state, cfg.OrdersListed)
	publisher := daprpubsub.NewPublisher(client, cfg.PubSub, cfg.AppID)
	services := adapters.NewServices(invoke.New(cfg.Sidecar, cfg.CallTimeout))

	metrics := adapters.NewMetrics(app.Causes())
	checkout := app.NewCheckout(store, services, publisher, app.CheckoutConfig{
		Metrics:        metrics,
		Fulfilment:     cfg.Fulfilment,
		ReservationTTL: cfg.ReservationTTL,
	})
	stepRetry := &workflow.RetryPolicy{MaxAttempts: cfg.StepAttempts, InitialRetryInterval: 500 * time.Millisecond,
		BackoffCoefficient: 2, MaxRetryInterval: 10 * time.Second}
	registry := workflow.NewRegistry()
	if err := adapters.Register(registry, checkout, stepRetry, log); err != nil {
		return err
	}
	// A minute's list lives a day at most, should the sweep never run.
	starts := adapters.NewStartList(state, 24*time.Hour)
	orders := app.NewOrders(store, starts, adapters.NewDaprWorkflows(wf), publisher, metrics, nil)

	workerUp := health.NewFlag("workflow worker not connected yet")
	router := httpapi.NewRouter()
	ports.NewHTTP(orders, validate.New()).Register(router)
	ready := health.Checks{"workflow-worker": workerUp.Check, "state-store": state.Ready}
	worker := httpserver.StartupTask{
		Name:    "start the workflow worker",
		Timeout: cfg.StartupTimeout,
		Run: func(startup context.Context) error {
			// The first connection needs the sidecar up, so it is retried; once
			// connected the worker lives as long as the service and reconnects
			// by itself.
			if err := backoff.Retry(startup, "connect the workflow worker", func() error { return wf.StartWorker(ctx, registry) }); err != nil {
				return err
			}
			workerUp.Set()
			return nil
		},
	}
	scheduleSweep := httpserver.StartupTask{
		Name:    "schedule the checkout start sweep",
		Timeout: cfg.StartupTimeout,
		Run: func(ctx context.Context) error {
			return daprjobs.Recurring(ctx, client, ports.SweepJob, cfg.StartSweep)
		},
	}
	return cfg.ServeWith(ctx, router, httpapi.Options{Log: log, Ready: ready, Collectors: metrics.Collectors()}, worker, scheduleSweep)
}
