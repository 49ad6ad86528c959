// Package service wires the notification service in one place.
package service

import (
	"context"

	"go.uber.org/zap"

	"github.com/daprshop/notification/adapters"
	"github.com/daprshop/notification/app"
	"github.com/daprshop/notification/ports"
	"github.com/daprshop/platform/bootstrap"
	"github.com/daprshop/platform/daprpubsub"
	"github.com/daprshop/platform/httpapi"
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
		adapters.NewStateLedger(store),
		adapters.NewStateDeadLetters(store),
		adapters.NewRepublisher(daprpubsub.NewPublisher(client, cfg.PubSub, cfg.AppID)),
	)
	router := httpapi.NewRouter()
	ports.NewHTTP(notifier).Register(router)
	return cfg.Serve(ctx, router, log, nil)
}
