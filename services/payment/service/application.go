// Package service wires the payment service in one place.
package service

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/payment/adapters"
	"github.com/daprshop/payment/app"
	"github.com/daprshop/payment/ports"
	"github.com/daprshop/platform/bootstrap"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/sidecar"
	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/platform/validate"
)

// Name and Port are the defaults of APP_ID and APP_PORT.
const (
	Name = "payment"
	Port = 8004
)

// Config is read from the environment at start (see README, "Configuration").
type Config struct {
	bootstrap.Base
	StateStore string `env:"PAYMENT_STATE_STORE" default:"payment-store" validate:"required"`
	PubSub     string `env:"PUBSUB_NAME" default:"pubsub" validate:"required"`
	// ProviderLatency is how long the simulated provider takes per attempt.
	ProviderLatency time.Duration `env:"PROVIDER_LATENCY" default:"50ms" validate:"min=0"`
	// Callers are the app IDs allowed to charge and refund.
	Callers []string `env:"PAYMENT_CALLERS" default:"order"`
}

// Run serves the payment service until ctx ends.
func Run(ctx context.Context, cfg *Config, log *zap.Logger) error {
	client, err := sidecar.Dial(cfg.Sidecar)
	if err != nil {
		return err
	}
	defer client.Close()
	payments := app.New(adapters.NewDaprStore(statestore.New(client, cfg.StateStore)),
		adapters.SimulatedProvider{Latency: cfg.ProviderLatency},
		events.NewPublisher(client, cfg.PubSub, cfg.AppID))

	router := httpapi.NewRouter()
	ports.NewHTTP(payments, validate.New(), cfg.Callers).Register(router)
	return cfg.Serve(ctx, router, log, nil)
}
