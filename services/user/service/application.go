// Package service wires the user service: config, adapters, use cases and the
// HTTP port, in one place.
package service

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/daprshop/platform/bootstrap"
	"github.com/daprshop/platform/daprjobs"
	"github.com/daprshop/platform/daprpubsub"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/health"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/httpserver"
	"github.com/daprshop/platform/outbox"
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
	// OutboxSweep: how often events that requests left unpublished (a
	// crash, a broker outage) are looked for (a recurring Dapr job).
	OutboxSweep time.Duration `env:"OUTBOX_SWEEP" default:"30s" validate:"min=1s,max=1h"`
	// SigningKeySecret names the JWT signing key (PKCS#8 PEM) in the secret store.
	SigningKeySecret string `env:"JWT_SIGNING_KEY_SECRET" default:"jwt-signing-key" validate:"required"`
	TokenIssuer      string `env:"JWT_ISSUER" default:"daprshop-user" validate:"required"`
	TokenAudience    string `env:"JWT_AUDIENCE" default:"daprshop" validate:"required"`
	// Access tokens are short-lived: a stolen one works until it expires
	// or its session is ended (see README, "Security model").
	TokenTTL   time.Duration `env:"JWT_TTL" default:"15m" validate:"min=1m,max=24h"`
	RefreshTTL time.Duration `env:"REFRESH_TTL" default:"168h" validate:"min=1m,max=2160h"`
	// The bootstrap admin: created at start with the password in secret
	// AdminPasswordSecret unless the account exists. Nobody can register it.
	AdminEmail          string `env:"ADMIN_EMAIL" default:"admin@daprshop.local" validate:"required,email"`
	AdminPasswordSecret string `env:"ADMIN_PASSWORD_SECRET" default:"admin-password" validate:"required"`
	// Failed logins allowed per account and per client address in a window.
	LoginMaxFailures   int           `env:"LOGIN_MAX_FAILURES" default:"10" validate:"min=1"`
	LoginFailureWindow time.Duration `env:"LOGIN_FAILURE_WINDOW" default:"15m" validate:"min=1s"`
	// App IDs allowed to read an account's session version (the gateway).
	SessionCallers []string `env:"SESSION_CALLERS" default:"gateway" validate:"min=1"`
}

// Run serves the user service until ctx ends.
func Run(ctx context.Context, cfg *Config, log *zap.Logger) error {
	client, err := sidecar.Dial(cfg.Sidecar)
	if err != nil {
		return err
	}
	defer client.Close()

	signer := adapters.NewSecretSigner(cfg.TokenIssuer, cfg.TokenAudience, cfg.TokenTTL)
	state := statestore.New(client, cfg.StateStore)
	store := adapters.NewDaprUserStore(state)
	var svc *app.Service
	box := outbox.New(state, daprpubsub.NewPublisher(client, cfg.PubSub, cfg.AppID),
		func(ctx context.Context, e events.Event) (events.Event, bool, error) { return svc.Restate(ctx, e) }, nil)
	svc, err = app.NewService(app.Deps{
		Repo:       store,
		Hasher:     adapters.NewArgon2Hasher(adapters.DefaultArgon2),
		Tokens:     signer,
		Events:     box,
		NewID:      func() string { return uuid.Must(uuid.NewV7()).String() },
		Refresh:    adapters.NewDaprRefreshTokens(state),
		RefreshTTL: cfg.RefreshTTL,
		Throttle: adapters.NewDaprLoginThrottle(state, adapters.LoginPolicy{
			MaxFailures: cfg.LoginMaxFailures, Window: cfg.LoginFailureWindow,
		}),
		AdminEmail: cfg.AdminEmail,
	})
	if err != nil {
		return err
	}

	router := httpapi.NewRouter()
	ports.NewHTTP(svc, validate.New(), cfg.SessionCallers, daprjobs.Counting(outbox.SweepJob, "published", box.Sweep)).Register(router)
	// The outbox's sweep is upkeep, not what makes the service ready: it is
	// scheduled in the background, tried until the scheduler answers.
	go func() {
		if err := daprjobs.Recurring(ctx, client, outbox.SweepJob, cfg.OutboxSweep); err != nil && ctx.Err() == nil {
			log.Error("outbox sweep not scheduled", zap.Error(err))
		}
	}()

	loadKey := httpserver.StartupTask{
		Name:    "load JWT signing key",
		Timeout: cfg.StartupTimeout,
		Run: func(ctx context.Context) error {
			return signer.Load(ctx, client, cfg.SecretStore, cfg.SigningKeySecret)
		},
	}
	// Not ready until the bootstrap admin exists: a client told "ready"
	// must be able to log in as it.
	var adminEnsured atomic.Bool
	adminReady := func(context.Context) error {
		if !adminEnsured.Load() {
			return errors.New("bootstrap admin not ensured yet")
		}
		return nil
	}
	bootstrapAdmin := httpserver.StartupTask{
		Name:    "bootstrap admin",
		Timeout: cfg.StartupTimeout,
		Run: func(ctx context.Context) error {
			password, err := sidecar.WaitForSecret(ctx, client, cfg.SecretStore, cfg.AdminPasswordSecret)
			if err != nil {
				return err
			}
			// The store may still be loading; retry until the task's timeout.
			created, err := svc.EnsureAdmin(ctx, password)
			for delay := 100 * time.Millisecond; err != nil; delay = min(2*delay, 2*time.Second) {
				log.Warn("bootstrap admin: retrying", zap.Error(err))
				select {
				case <-ctx.Done():
					return err
				case <-time.After(delay):
				}
				created, err = svc.EnsureAdmin(ctx, password)
			}
			adminEnsured.Store(true)
			if created {
				log.Info("bootstrap admin created: log in with the password in secret "+cfg.AdminPasswordSecret,
					zap.String("email", cfg.AdminEmail))
			}
			return nil
		},
	}
	return cfg.Serve(ctx, router, log, health.Checks{"signing-key": signer.Ready, "user-store": store.Ready, "bootstrap-admin": adminReady}, loadKey, bootstrapAdmin)
}
