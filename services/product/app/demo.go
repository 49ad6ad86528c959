package app

import (
	"context"

	"github.com/daprshop/product/domain"
)

// DemoStore bulk-loads products and keeps a marker of the demo import.
type DemoStore interface {
	// Import stores the seeds' products and stock where they do not exist
	// yet and lists them; products that exist are left as they are.
	Import(ctx context.Context, seeds []domain.Seed) error
	// DemoState is the marker: "", DemoLoading or DemoLoaded.
	DemoState(ctx context.Context) (string, error)
	SetDemoState(ctx context.Context, state string) error
}

// Demo import markers: an import that was cut short is redone at the next start.
const (
	DemoLoading = "loading"
	DemoLoaded  = "loaded"
)

// Demo loads the demo catalog, so that a first run shows real data.
type Demo struct {
	store   DemoStore
	catalog CatalogReader
	seeds   func(n int) []domain.Seed
}

// NewDemo loads the products seeds(n) generates into store.
func NewDemo(store DemoStore, catalog CatalogReader, seeds func(n int) []domain.Seed) *Demo {
	return &Demo{store: store, catalog: catalog, seeds: seeds}
}

// LoadIfEmpty loads n products into an empty catalog, or finishes an import
// a previous start did not complete; it says whether it loaded.
func (d *Demo) LoadIfEmpty(ctx context.Context, n int) (loaded bool, previous string, err error) {
	state, err := d.store.DemoState(ctx)
	if err != nil {
		return false, "", err
	}
	if n == 0 || (d.catalog.Catalog().Len() > 0 && state != DemoLoading) {
		return false, state, nil
	}
	return true, state, d.Load(ctx, n)
}

// Load loads n demo products between two markers, so that an import cut
// short is redone at the next start. Concurrent imports (replicas, test
// runs sharing a store) write the same data and do not conflict.
func (d *Demo) Load(ctx context.Context, n int) error {
	if err := d.store.SetDemoState(ctx, DemoLoading); err != nil {
		return err
	}
	if err := d.store.Import(ctx, d.seeds(n)); err != nil {
		return err
	}
	return d.store.SetDemoState(ctx, DemoLoaded)
}
