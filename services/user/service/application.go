// Package service wires the user service: config, adapters, use cases and the
// HTTP port, in one place.
package service

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/daprshop/platform/envconfig"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/health"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/httpserver"
	"github.com/daprshop/platform/middleware"
	"github.com/daprshop/platform/sidecar"
	"github.com/daprshop/platform/validate"
	"github.com/daprshop/user/adapters"
	"github.com/daprshop/user/app"
	"github.com/daprshop/user/ports"
)

// Config is read from the environment at start (see README, "Configuration").
type Config struct {
	Port       int    `env:"APP_PORT" default:"8001" validate:"min=1,max=65535"`
	AppID      string `env:"APP_ID" default:"user" validate:"required"`
	LogLevel   string `env:"LOG_LEVEL" default:"info" validate:"oneof=debug info warn error"`
	StateStore string `env:"USER_STATE_STORE" default:"user-store" validate:"required"`
	PubSub     string `env:"PUBSUB_NAME" default:"pubsub" validate:"required"`
	// SecretStore holds the JWT signing key as PKCS#8 PEM under SigningKeySecret.
	SecretStore      string        `env:"SECRET_STORE" default:"secretstore" validate:"required"`
	SigningKeySecret string        `env:"JWT_SIGNING_KEY_SECRET" default:"jwt-signing-key" validate:"required"`
	TokenIssuer      string        `env:"JWT_ISSUER" default:"daprshop-user" validate:"required"`
	TokenAudience    string        `env:"JWT_AUDIENCE" default:"daprshop" validate:"required"`
	TokenTTL         time.Duration `env:"JWT_TTL" default:"1h" validate:"min=1m,max=24h"`
	// AdminEmails register with the admin role (comma-separated).
	AdminEmails []string `env:"ADMIN_EMAILS"`
	// StartupTimeout bounds the wait for the sidecar to hand out the signing key.
	StartupTimeout time.Duration `env:"STARTUP_TIMEOUT" default:"2m"`
	Sidecar        sidecar.Config
}

// LoadConfig reads Config from the environment.
func LoadConfig() (Config, error) {
	var c Config
	err := envconfig.Load(&c)
	return c, err
}

// Run serves the user service until ctx ends.
func Run(ctx context.Context, cfg Config, log *zap.Logger) error {
	log.Info("starting", envconfig.Fields(&cfg)...)

	client, err := sidecar.Dial(cfg.Sidecar)
	if err != nil {
		return err
	}
	defer client.Close()

	signer := adapters.NewSecretSigner(cfg.TokenIssuer, cfg.TokenAudience, cfg.TokenTTL)
	svc, err := app.NewService(app.Deps{
		Repo:        adapters.NewDaprUserStore(client, cfg.StateStore),
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
	handler := httpapi.Handler(router, httpapi.Options{
		Log:      log,
		Metrics:  middleware.NewHTTPMetrics(),
		AppToken: cfg.Sidecar.AppToken,
		Ready: health.Checks{
			"sidecar":     sidecar.Check(cfg.Sidecar, &http.Client{Timeout: 2 * time.Second}),
			"signing-key": signer.Ready,
		},
	})

	loadKey := httpserver.StartupTask{
		Name:    "load JWT signing key",
		Timeout: cfg.StartupTimeout,
		Run: func(ctx context.Context) error {
			return signer.Load(ctx, client, cfg.SecretStore, cfg.SigningKeySecret)
		},
	}
	return httpserver.Run(ctx, httpserver.Defaults(fmt.Sprintf(":%d", cfg.Port)), handler, log, loadKey)
}
