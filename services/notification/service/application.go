// Package service wires the notification service in one place.
package service

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/notification/adapters"
	"github.com/daprshop/notification/app"
	"github.com/daprshop/notification/ports"
	"github.com/daprshop/platform/bootstrap"
	"github.com/daprshop/platform/daprjobs"
	"github.com/daprshop/platform/daprpubsub"
	"github.com/daprshop/platform/health"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/httpserver"
	"github.com/daprshop/platform/sidecar"
	"github.com/daprshop/platform/statestore"
)

// Name and Port are the defaults of APP_ID and APP_PORT.
const (
	Name = "notification"
	Port = 8005
)

// Config is read from the environment at start (see README, "Configuration").
type Config struct {
	bootstrap.Base
	StateStore string `env:"NOTIFICATION_STATE_STORE" default:"notification-store" validate:"required"`
	PubSub     string `env:"PUBSUB_NAME" default:"pubsub" validate:"required"`
	// EmailBinding is the output binding component that sends email.
	EmailBinding string `env:"EMAIL_BINDING" default:"email" validate:"required"`
	// EmailFormat is "file" (the local outbox binding), "smtp", or "auto":
	// the format of the binding's component type, asked of the sidecar.
	EmailFormat string `env:"EMAIL_FORMAT" default:"auto" validate:"oneof=auto file smtp"`
	EmailFrom   string `env:"EMAIL_FROM" default:"daprshop <no-reply@daprshop.local>"`
	// A claim to send an event's email whose send has not finished after
	// ClaimLease is its sender's crash: the sweep, every ClaimSweep, sends it.
	ClaimLease time.Duration `env:"CLAIM_LEASE" default:"1m" validate:"min=15s"`
	ClaimSweep time.Duration `env:"CLAIM_SWEEP" default:"30s" validate:"min=1s"`
	// How long claims and delivery counts are kept: a copy of an event
	// delivered later than that sends its email again.
	ClaimRetention time.Duration `env:"CLAIM_RETENTION" default:"168h" validate:"min=1h"`
	// DeadLettersKept bounds the dead letters kept for replay, newest first.
	DeadLettersKept int `env:"DEADLETTERS_KEPT" default:"1000" validate:"min=10,max=100000"`
}

// Run serves the notifier until ctx ends.
func Run(ctx context.Context, cfg *Config, log *zap.Logger) error {
	client, err := sidecar.Dial(cfg.Sidecar)
	if err != nil {
		return err
	}
	defer client.Close()
	store := statestore.New(client, cfg.StateStore)
	notifier := app.New(
		adapters.NewBindingSender(client, cfg.EmailBinding, cfg.EmailFormat, cfg.EmailFrom),
		adapters.NewStateLedger(store, cfg.ClaimRetention),
		adapters.NewStateDeadLetters(store, cfg.DeadLettersKept),
		adapters.NewRepublisher(daprpubsub.NewPublisher(client, cfg.PubSub, cfg.AppID)),
		cfg.ClaimLease, nil,
	)
	router := httpapi.NewRouter()
	ports.NewHTTP(notifier).Register(router)
	scheduleSweep := httpserver.StartupTask{
		Name:    "schedule the claim sweep",
		Timeout: cfg.StartupTimeout,
		Run: func(ctx context.Context) error {
			return daprjobs.Recurring(ctx, client, ports.SweepJob, cfg.ClaimSweep)
		},
	}
	return cfg.Serve(ctx, router, log, health.Checks{"state-store": store.Ready}, scheduleSweep)
}
