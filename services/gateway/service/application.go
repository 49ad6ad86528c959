// Package service wires the gateway: config, adapters and routes, in one place.
package service

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/gateway/adapters"
	"github.com/daprshop/gateway/ports"
	"github.com/daprshop/platform/bootstrap"
	"github.com/daprshop/platform/health"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/httpserver"
	"github.com/daprshop/platform/sidecar"
)

// Name and Port are the defaults of APP_ID and APP_PORT.
const (
	Name = "gateway"
	Port = 8000
)

// Config is read from the environment at start (see README, "Configuration").
type Config struct {
	bootstrap.Base
	// VerifyKeySecret names the JWT public key (PKIX PEM) in the secret store.
	VerifyKeySecret string        `env:"JWT_VERIFY_KEY_SECRET" default:"jwt-public-key" validate:"required"`
	TokenIssuer     string        `env:"JWT_ISSUER" default:"daprshop-user" validate:"required"`
	TokenAudience   string        `env:"JWT_AUDIENCE" default:"daprshop" validate:"required"`
	UpstreamTimeout time.Duration `env:"UPSTREAM_TIMEOUT" default:"15s" validate:"min=100ms"`
	// How long an account's session version is trusted before it is read
	// again from the user service: the most a revoked token keeps working.
	SessionCacheTTL time.Duration `env:"SESSION_CACHE_TTL" default:"2s" validate:"min=0,max=5s"`
	UserApp         string        `env:"USER_APP_ID" default:"user" validate:"required"`
}

// Run serves the gateway until ctx ends.
func Run(ctx context.Context, cfg *Config, log *zap.Logger) error {
	client, err := sidecar.Dial(cfg.Sidecar)
	if err != nil {
		return err
	}
	defer client.Close()

	invoker, err := adapters.NewInvoker(cfg.Sidecar, cfg.UpstreamTimeout)
	if err != nil {
		return err
	}
	verifier := adapters.NewSecretVerifier(cfg.TokenIssuer, cfg.TokenAudience)

	router := httpapi.NewRouter()
	sessions := adapters.NewSessions(cfg.Sidecar, cfg.UserApp, cfg.SessionCacheTTL, 3*time.Second)
	ports.Routes(router, invoker, ports.NewAuthenticator(verifier, sessions))
	// The gateway is public: no sidecar app token is asked of its callers.
	cfg.Sidecar.AppToken = ""

	loadKey := httpserver.StartupTask{
		Name:    "load JWT verification key",
		Timeout: cfg.StartupTimeout,
		Run: func(ctx context.Context) error {
			return verifier.Load(ctx, client, cfg.SecretStore, cfg.VerifyKeySecret)
		},
	}
	return cfg.Serve(ctx, router, log, health.Checks{"verify-key": verifier.Ready}, loadKey)
}
