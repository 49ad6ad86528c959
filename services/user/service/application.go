// Package service wires the user service: config, adapters, use cases and the
// HTTP port, in one place.
package service

import (
	"context"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/daprshop/platform/bootstrap"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/health"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/httpserver"
	"github.com/daprshop/platform/sidecar"
	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/platform/validate"
	"github.com/daprshop/user/adapters"
	"github.com/daprshop/user/app"
	"github.com/daprshop/user/ports"
)

// Name and Port are the defaults of APP_ID and APP_PORT.
const (
	Name = "user"
	Port = 8001
)

// Config is read from the environment at start (see README, "Configuration").
type Config struct {
	bootstrap.Base
	StateStore string `env:"USER_STATE_STORE" default:"user-store" validate:"required"`
	PubSub     string `env:"PUBSUB_NAME" default:"pubsub" validate:"required"`
	// SigningKeySecret names the JWT signing key (PKCS#8 PEM) in the secret store.
	SigningKeySecret string        `env:"JWT_SIGNING_KEY_SECRET" default:"jwt-signing-key" validate:"required"`
	TokenIssuer      string        `env:"JWT_ISSUER" default:"daprshop-user" validate:"required"`
	TokenAudience    string        `env:"JWT_AUDIENCE" default:"daprshop" validate:"required"`
	TokenTTL         time.Duration `env:"JWT_TTL" default:"1h" validate:"min=1m,max=24h"`
	// AdminEmails register with the admin role (comma-separated).
	AdminEmails []string `env:"ADMIN_EMAILS"`
}

// Run serves the user service until ctx ends.
func Run(ctx context.Context, cfg *Config, log *zap.Logger) error {
	client, err := sidecar.Dial(cfg.Sidecar)
	if err != nil {
		return err
	}
	defer client.Close()

	signer := adapters.NewSecretSigner(cfg.TokenIssuer, cfg.TokenAudience, cfg.TokenTTL)
	store := adapters.NewDaprUserStore(statestore.New(client, cfg.StateStore))
	svc, err := app.NewService(app.Deps{
		Repo:        store,
		Hasher:      adapters.NewArgon2Hasher(adapters.DefaultArgon2),
		Tokens:      signer,
		Events:      events.NewPublisher(client, cfg.PubSub, cfg.AppID),
		NewID:       func() string { return uuid.Must(uuid.NewV7()).String() },
		AdminEmails: cfg.AdminEmails,
	})
	if err != nil {
		return err
	}

	router := httpapi.NewRouter()
	ports.NewHTTP(svc, validate.New()).Register(router)

	loadKey := httpserver.StartupTask{
		Name:    "load JWT signing key",
		Timeout: cfg.StartupTimeout,
		Run: func(ctx context.Context) error {
			return signer.Load(ctx, client, cfg.SecretStore, cfg.SigningKeySecret)
		},
	}
	return cfg.Serve(ctx, router, log, health.Checks{"signing-key": signer.Ready, "user-store": store.Ready}, loadKey)
}
