package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/daprshop/product/app"
	"github.com/daprshop/product/domain"
)

type demoStore struct {
	state    string
	imported int
	failWith error
	listed   int
}

func (d *demoStore) Import(_ context.Context, seeds []domain.Seed) error {
	if d.failWith != nil {
		return d.failWith
	}
	d.imported += len(seeds)
	d.listed += len(seeds)
	return nil
}
func (d *demoStore) DemoState(context.Context) (string, error)          { return d.state, nil }
func (d *demoStore) SetDemoState(_ context.Context, state string) error { d.state = state; return nil }

// Catalog is the index as the store lists it.
func (d *demoStore) Catalog() *domain.Catalog {
	sums := make([]domain.Summary, d.listed)
	for i := range sums {
		sums[i] = domain.Summary{ID: fmt.Sprint(i)}
	}
	return domain.NewCatalog(sums)
}

func seeds(n int) []domain.Seed { return make([]domain.Seed, n) }

func TestDemoLoadsAnEmptyCatalogOnly(t *testing.T) {
	s := &demoStore{}
	d := app.NewDemo(s, s, seeds)
	if loaded, _, err := d.LoadIfEmpty(ctx, 3); err != nil || !loaded || s.imported != 3 || s.state != app.DemoLoaded {
		t.Fatalf("empty catalog: loaded %v, %v, imported %d, state %q", loaded, err, s.imported, s.state)
	}
	if loaded, _, err := d.LoadIfEmpty(ctx, 3); err != nil || loaded || s.imported != 3 {
		t.Fatalf("second start loaded again: %v %v %d", loaded, err, s.imported)
	}
	if loaded, _, _ := app.NewDemo(&demoStore{}, &demoStore{}, seeds).LoadIfEmpty(ctx, 0); loaded {
		t.Fatal("DEMO_CATALOG=0 loaded")
	}
}

func TestDemoFinishesAnImportCutShort(t *testing.T) {
	s := &demoStore{failWith: errors.New("sidecar gone")}
	d := app.NewDemo(s, s, seeds)
	if _, _, err := d.LoadIfEmpty(ctx, 3); err == nil || s.state != app.DemoLoading {
		t.Fatalf("err %v, state %q", err, s.state)
	}
	s.failWith, s.listed = nil, 1 // part of it was listed before the crash
	loaded, previous, err := d.LoadIfEmpty(ctx, 3)
	if err != nil || !loaded || previous != app.DemoLoading || s.state != app.DemoLoaded {
		t.Fatalf("restart: loaded %v, previous %q, %v, state %q", loaded, previous, err, s.state)
	}
}
