// Package service wires the payment service in one place.
package service

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/payment/adapters"
	"github.com/daprshop/payment/app"
	"github.com/daprshop/payment/ports"
	"github.com/daprshop/platform/bootstrap"
	"github.com/daprshop/platform/daprpubsub"
	"github.com/daprshop/platform/health"
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

// The live keys of the simulated provider (README, "Live configuration").
const (
	KeyProviderLatency = "payment.provider_latency"
	KeyDeclineRate     = "payment.decline_rate"
)

// LiveKeys are the keys the payment service follows.
var LiveKeys = []string{KeyProviderLatency, KeyDeclineRate}

// liveProvider reads the live keys over the start-up latency (and no
// declines beyond the test cards').
func liveProvider(values map[string]string, latency time.Duration) (time.Duration, float64, error) {
	rate := 0.0
	if v, ok := values[KeyProviderLatency]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 10*time.Second {
			return 0, 0, fmt.Errorf("%s: %q is not a duration between 0s and 10s", KeyProviderLatency, v)
		}
		latency = d
	}
	if v, ok := values[KeyDeclineRate]; ok {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			return 0, 0, fmt.Errorf("%s: %q is not a fraction between 0 and 1", KeyDeclineRate, v)
		}
		rate = r
	}
	return latency, rate, nil
}

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
	provider := adapters.NewSimulatedProvider(cfg.ProviderLatency)
	state := statestore.New(client, cfg.StateStore)
	payments := app.New(adapters.NewDaprStore(state), provider,
		daprpubsub.NewPublisher(client, cfg.PubSub, cfg.AppID))
	cfg.WatchConfig(ctx, client, LiveKeys, func(values map[string]string, _ string) error {
		latency, rate, err := liveProvider(values, cfg.ProviderLatency)
		if err != nil {
			return err
		}
		provider.Set(latency, rate)
		return nil
	}, log)

	router := httpapi.NewRouter()
	ports.NewHTTP(payments, validate.New(), cfg.Callers).Register(router)
	return cfg.Serve(ctx, router, log, health.Checks{"state-store": state.Ready})
}
