package adapters

import (
	"context"
	"fmt"

	"github.com/daprshop/platform/statestore"

	"github.com/daprshop/product/domain"
)

// Import loads many products at once: the missing product and stock
// records in bulk writes, then each index shard once. Products that exist
// are left as they are (their stock may have moved since), so an import can
// be repeated or resumed. It sends no events; it is for demo data and tests.
//
// Only keys that do not exist are bulk-written: a key that was ever saved
// with first-write concurrency refuses a plain write, and daprd 1.18.1
// panics when it retries a bulk save that partly failed.
func (c *DaprCatalog) Import(ctx context.Context, seeds []domain.Seed) error {
	const chunk = 250
	summaries := make([]domain.Summary, 0, len(seeds))
	for start := 0; start < len(seeds); start += chunk {
		batch := seeds[start:min(start+chunk, len(seeds))]
		keys := make([]string, 0, 2*len(batch))
		for _, s := range batch {
			keys = append(keys, productKey(s.Product.ID), stockKey(s.Product.ID))
		}
		items, err := c.store.GetBulk(ctx, keys)
		if err != nil {
			return err
		}
		existing := make(map[string]statestore.Item, len(items))
		for _, it := range items {
			if it.Value != nil {
				existing[it.Key] = it
			}
		}
		missing := map[string]any{}
		for _, s := range batch {
			p, inStock := s.Product, s.Stock > 0
			if it, ok := existing[productKey(p.ID)]; ok {
				var stored productRecord
				if err := decode(it, &stored); err != nil {
					return err
				}
				p = stored.product()
			} else {
				missing[productKey(p.ID)] = toProductRecord(p)
			}
			if it, ok := existing[stockKey(p.ID)]; ok {
				var st stockRecord
				if err := decode(it, &st); err != nil {
					return err
				}
				inStock = st.Available > 0
			} else {
				missing[stockKey(p.ID)] = stockRecord{Available: s.Stock}
			}
			summaries = append(summaries, p.Summary(inStock))
		}
		if len(missing) > 0 {
			if err := c.store.Put(ctx, missing); err != nil {
				return fmt.Errorf("import products %d-%d: %w", start, start+len(batch), err)
			}
		}
	}
	byShard := map[int][]domain.Summary{}
	for _, s := range summaries {
		byShard[ShardOf(s.ID)] = append(byShard[ShardOf(s.ID)], s)
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

// DemoState returns the demo import's marker (app.DemoLoading, ...).
func (c *DaprCatalog) DemoState(ctx context.Context) (string, error) {
	var state string
	_, _, err := c.store.Get(ctx, demoKey, &state)
	return state, err
}

// SetDemoState records the demo import's progress.
func (c *DaprCatalog) SetDemoState(ctx context.Context, state string) error {
	return c.store.Put(ctx, map[string]any{demoKey: state})
}
