// Package service wires the product service: config, adapters, use cases
// and the HTTP port, in one place.
package service

import (
	"context"
	"fmt"
	"strconv"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/daprshop/platform/backoff"
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
	"github.com/daprshop/product/adapters"
	"github.com/daprshop/product/app"
	"github.com/daprshop/product/demo"
	"github.com/daprshop/product/ports"
)

// Name and Port are the defaults of APP_ID and APP_PORT.
const (
	Name = "product"
	Port = 8002
)

// KeyLowStockThreshold is the live key of LOW_STOCK_THRESHOLD (README,
// "Live configuration").
const KeyLowStockThreshold = "product.low_stock_threshold"

// Config is read from the environment at start (see README, "Configuration").
type Config struct {
	bootstrap.Base
	StateStore string `env:"PRODUCT_STATE_STORE" default:"product-store" validate:"required"`
	PubSub     string `env:"PUBSUB_NAME" default:"pubsub" validate:"required"`
	// ReservationTTL: reservations not committed or released by then return their stock.
	ReservationTTL time.Duration `env:"RESERVATION_TTL" default:"15m" validate:"min=1s"`
	// ExpirySweep: how often reservations past their time are looked for and
	// expired (a recurring Dapr job), so one expires at most this long late.
	ExpirySweep time.Duration `env:"EXPIRY_SWEEP" default:"30s" validate:"min=1s,max=1h"`
	// OutboxSweep: how often events that catalog requests left unpublished
	// (a crash, a broker outage) are looked for (a recurring Dapr job).
	OutboxSweep time.Duration `env:"OUTBOX_SWEEP" default:"30s" validate:"min=1s,max=1h"`
	// LowStockThreshold: inventory.low-stock is published when available stock falls below it.
	LowStockThreshold int64 `env:"LOW_STOCK_THRESHOLD" default:"5" validate:"min=0"`
	// IndexRefresh is how often the catalog index is re-read, i.e. how soon
	// one replica sees another's writes.
	IndexRefresh time.Duration `env:"INDEX_REFRESH" default:"2s" validate:"min=100ms"`
	// DemoCatalog products are loaded at start when the catalog is empty; 0 never.
	DemoCatalog int `env:"DEMO_CATALOG" default:"0" validate:"min=0,max=100000"`
	// InventoryCallers are the app IDs allowed to reserve stock.
	InventoryCallers []string `env:"INVENTORY_CALLERS" default:"order"`
}

type parts struct {
	client  dapr.Client
	store   *statestore.Store
	index   *adapters.Index
	catalog *adapters.DaprCatalog
}

func connect(cfg *Config, log *zap.Logger) (*parts, error) {
	client, err := sidecar.Dial(cfg.Sidecar)
	if err != nil {
		return nil, err
	}
	store := statestore.New(client, cfg.StateStore)
	index := adapters.NewIndex(store, log)
	return &parts{client: client, store: store, index: index, catalog: adapters.NewDaprCatalog(store, index)}, nil
}

// Run serves the product service until ctx ends.
func Run(ctx context.Context, cfg *Config, log *zap.Logger) error {
	serviceCtx := ctx
	p, err := connect(cfg, log)
	if err != nil {
		return err
	}
	defer p.client.Close()
	publisher := daprpubsub.NewPublisher(p.client, cfg.PubSub, cfg.AppID)

	var catalog *app.Catalog
	box := outbox.New(p.store, publisher, func(ctx context.Context, e events.Event) (events.Event, bool, error) {
		return catalog.Restate(ctx, e)
	}, nil)
	catalog = app.NewCatalog(p.catalog, p.catalog, p.index, box,
		app.CatalogConfig{NewID: func() string { return uuid.Must(uuid.NewV7()).String() }})
	inventory := app.NewInventory(p.catalog, p.catalog, p.index, adapters.NewDaprReservations(p.store), publisher,
		app.InventoryConfig{TTL: cfg.ReservationTTL, LowStockThreshold: cfg.LowStockThreshold})

	cfg.WatchConfig(ctx, p.client, []string{KeyLowStockThreshold}, func(values map[string]string, _ string) error {
		n := cfg.LowStockThreshold
		if v, ok := values[KeyLowStockThreshold]; ok {
			parsed, err := strconv.ParseInt(v, 10, 64)
			if err != nil || parsed < 0 || parsed > 1_000_000 {
				return fmt.Errorf("%s: %q is not a whole number between 0 and 1000000", KeyLowStockThreshold, v)
			}
			n = parsed
		}
		inventory.SetLowStockThreshold(n)
		return nil
	}, log)

	// Ready only once the catalog is loaded, demo import included: a replica
	// must not serve a half-imported catalog.
	catalogLoaded := health.NewFlag("catalog not loaded yet")
	router := httpapi.NewRouter()
	ports.NewHTTP(catalog, inventory, validate.New(), cfg.InventoryCallers, box).Register(router)
	ready := health.Checks{"catalog": catalogLoaded.Check, "state-store": p.store.Ready}

	loadCatalog := httpserver.StartupTask{
		Name:    "load catalog index",
		Timeout: cfg.StartupTimeout,
		Run: func(ctx context.Context) error {
			if err := loadIndex(ctx, p.index); err != nil {
				return err
			}
			// Refreshes start once the first load succeeded, and live as long
			// as the service (ctx), not the start-up task.
			go p.index.Run(serviceCtx, cfg.IndexRefresh)
			// Load the demo catalog into an empty store, or finish an import
			// a previous start did not complete.
			start := time.Now()
			loaded, previous, err := app.NewDemo(p.catalog, p.index, demo.Products).LoadIfEmpty(ctx, cfg.DemoCatalog)
			if err != nil {
				return err
			}
			if loaded {
				log.Info("demo catalog loaded", zap.Int("products", cfg.DemoCatalog), zap.String("previous_import", previous),
					zap.Duration("took", time.Since(start)))
			}
			if err := daprjobs.Recurring(ctx, p.client, app.SweepJob, cfg.ExpirySweep); err != nil {
				return err
			}
			if err := daprjobs.Recurring(ctx, p.client, outbox.SweepJob, cfg.OutboxSweep); err != nil {
				return err
			}
			catalogLoaded.Set()
			log.Info("catalog loaded", zap.Int("products", p.index.Catalog().Len()))
			return nil
		},
	}
	return cfg.Serve(ctx, router, log, ready, loadCatalog)
}

// Seed loads the demo catalog (DEMO_CATALOG products, 1000 if unset) through
// the sidecar, overwriting demo products of the same IDs: `make seed`.
func Seed(ctx context.Context, cfg *Config, log *zap.Logger) error {
	p, err := connect(cfg, log)
	if err != nil {
		return err
	}
	defer p.client.Close()
	ctx, cancel := context.WithTimeout(ctx, cfg.StartupTimeout)
	defer cancel()
	if err := loadIndex(ctx, p.index); err != nil {
		return err
	}
	n := cfg.DemoCatalog
	if n == 0 {
		n = 1000
	}
	start := time.Now()
	if err := app.NewDemo(p.catalog, p.index, demo.Products).Load(ctx, n); err != nil {
		return err
	}
	log.Info("demo catalog loaded", zap.Int("products", n), zap.Int("catalog_size", p.index.Catalog().Len()),
		zap.Duration("took", time.Since(start)))
	return nil
}

// loadIndex reads the index, retrying while the sidecar starts.
func loadIndex(ctx context.Context, index *adapters.Index) error {
	return backoff.Retry(ctx, "load catalog index", func() error { return index.Refresh(ctx) })
}
