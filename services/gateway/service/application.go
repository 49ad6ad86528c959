// Package service wires the gateway: config, adapters and routes, in one place.
package service

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"go.uber.org/zap"

	"github.com/daprshop/gateway/adapters"
	"github.com/daprshop/gateway/ports"
	"github.com/daprshop/gateway/storefront"
	"github.com/daprshop/platform/bootstrap"
	"github.com/daprshop/platform/health"
	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/httpserver"
	"github.com/daprshop/platform/liveconfig"
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

	// The edge (README, "The edge"): group=value lists; a group left out
	// keeps the seed's figure (ports.DefaultSettings).
	RateLimits  string `env:"RATE_LIMITS"`
	Timeouts    string `env:"ROUTE_TIMEOUTS"`
	BodyLimits  string `env:"BODY_LIMITS"`
	CORSOrigins string `env:"CORS_ORIGINS"`
	Features    string `env:"FEATURES"`
	CacheTTL    string `env:"CATALOG_CACHE_TTL"`
	ItemTTL     string `env:"CATALOG_ITEM_CACHE_TTL"`
	// RateLimitStore is the Redis every replica counts in (keys rate:daprshop:*).
	RateLimitStore   string        `env:"RATE_LIMIT_STORE" default:"redis://127.0.0.1:6379/0" validate:"required"`
	RateLimitTimeout time.Duration `env:"RATE_LIMIT_TIMEOUT" default:"250ms" validate:"min=10ms,max=5s"`
}

// edgePolicy is the seed's figures overlaid with the configured ones.
func (c *Config) edgePolicy() (ports.Policy, error) {
	defaults, err := ports.ParsePolicy(ports.Policy{}, ports.DefaultSettings, "defaults")
	if err != nil {
		return ports.Policy{}, err
	}
	return ports.ParsePolicy(defaults, ports.Settings{
		RateLimits: c.RateLimits, Timeouts: c.Timeouts, BodyLimits: c.BodyLimits, CORSOrigins: c.CORSOrigins, Features: c.Features, CacheTTL: c.CacheTTL, ItemTTL: c.ItemTTL,
	}, liveconfig.Version(nil))
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

	policy, err := cfg.edgePolicy()
	if err != nil {
		return err
	}
	limiter, err := adapters.NewRedisLimiter(cfg.RateLimitStore)
	if err != nil {
		return err
	}
	defer limiter.Close()
	edge := ports.NewEdge(policy, limiter, cfg.RateLimitTimeout, log)
	// Live values are laid over the start-up policy, never over each other.
	cfg.WatchConfig(ctx, client, ports.LiveKeys, func(values map[string]string, version string) error {
		p, err := ports.ParsePolicy(policy, ports.LiveSettings(values), version)
		if err != nil {
			return err
		}
		edge.SetPolicy(p)
		return nil
	}, log)

	router := httpapi.NewRouter()
	sessions := adapters.NewSessions(cfg.Sidecar, cfg.UserApp, cfg.SessionCacheTTL, 3*time.Second)
	ports.Routes(router, ports.Table, invoker, ports.NewAuthenticator(verifier, sessions), edge)
	// The gateway is public: no sidecar app token is asked of its callers,
	// except on the route only its sidecar calls.
	if cfg.Sidecar.AppToken == "" {
		log.Warn("APP_API_TOKEN is not set: any caller of the public port can empty the edge cache through " + ports.CatalogEventsPath)
	}
	router.Handle(ports.CatalogEventsPath, sidecar.RequireAppToken(cfg.Sidecar.AppToken, edge.CatalogEvents())).Methods(http.MethodPost)
	cfg.Sidecar.AppToken = ""
	// The storefront answers what no route does: as the router's not-found
	// handler it can never shadow a route, and what it does not serve (any
	// path under /api/ among it) it hands back to the problem+json 404.
	router.NotFoundHandler = storefront.Handler(router.NotFoundHandler)

	loadKey := httpserver.StartupTask{
		Name:    "load JWT verification key",
		Timeout: cfg.StartupTimeout,
		Run: func(ctx context.Context) error {
			return verifier.Load(ctx, client, cfg.SecretStore, cfg.VerifyKeySecret)
		},
	}
	return cfg.ServeWith(ctx, router, httpapi.Options{
		Log:   log,
		Ready: health.Checks{"verify-key": verifier.Ready},
		Edge:  edge.CORS,
		AdminRoutes: func(r *mux.Router) {
			r.Handle("/gateway/stats", edge.Stats()).Methods(http.MethodGet)
		},
	}, loadKey)
}
