package adapters

import (
	"context"
	"fmt"

	"github.com/daprshop/product/domain"
)

// Seed is one product of a bulk load with its initial stock.
type Seed struct {
	Product *domain.Product
	Stock   int64
}

// Import loads many products at once: product and stock records in bulk
// writes, then each index shard once. It overwrites products with the same
// IDs and sends no events; it is for demo data and tests, not for traffic.
func (c *DaprCatalog) Import(ctx context.Context, seeds []Seed) error {
	const chunk = 250
	for start := 0; start < len(seeds); start += chunk {
		values := map[string]any{}
		for _, s := range seeds[start:min(start+chunk, len(seeds))] {
			values[productKey(s.Product.ID)] = s.Product
			values[stockKey(s.Product.ID)] = domain.Stock{Available: s.Stock}
		}
		if err := c.store.Put(ctx, values); err != nil {
			return fmt.Errorf("import products %d-%d: %w", start, start+chunk, err)
		}
	}
	byShard := map[int][]domain.Summary{}
	for _, s := range seeds {
		n := ShardOf(s.Product.ID)
		byShard[n] = append(byShard[n], s.Product.Summary(s.Stock > 0))
	}
	for n, sums := range byShard {
		err := c.updateShard(ctx, n, func(sh shard) {
			for _, s := range sums {
				sh[s.ID] = s
			}
		})
		if err != nil {
			return err
		}
	}
	return c.index.Refresh(ctx)
}

const demoKey = "catalog|demo"

// Demo markers: an import that was cut short is redone at the next start.
const (
	DemoLoading = "loading"
	DemoLoaded  = "loaded"
)

// DemoState returns the demo import's marker: "", DemoLoading or DemoLoaded.
func (c *DaprCatalog) DemoState(ctx context.Context) (string, error) {
	var state string
	_, _, err := c.store.Get(ctx, demoKey, &state)
	return state, err
}

// SetDemoState records the demo import's progress.
func (c *DaprCatalog) SetDemoState(ctx context.Context, state string) error {
	return c.store.Put(ctx, map[string]any{demoKey: state})
}
