package adapters

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/platform/logging"
	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/product/domain"
)

// DaprCatalog keeps products, stock and the catalog index in a Dapr state
// store, under these keys:
//
//	product|<id>          the product
//	stock|<id>            its stock and per-order holds
//	catalog|shard|<nn>    index shard: summaries of the products hashed to it
//
// Product and stock are separate keys because stock changes with every
// reservation and the catalog rarely does; the index stores only whether a
// product is in stock, so it is written when stock crosses zero, not on
// every reservation.
type DaprCatalog struct {
	store *statestore.Store
	index *Index
}

// NewDaprCatalog stores products in store and keeps index current.
func NewDaprCatalog(store *statestore.Store, index *Index) *DaprCatalog {
	return &DaprCatalog{store: store, index: index}
}

// stockRetry allows for hot products: a hundred orders holding units of one
// product at once each win the compare-and-swap in turn.
var stockRetry = statestore.Retry{Attempts: 400, MaxBackoff: 15 * time.Millisecond}

// shardRetry: index shards are written on admin changes and stock crossing zero.
var shardRetry = statestore.Retry{Attempts: 50, MaxBackoff: 20 * time.Millisecond}

func productKey(id string) string { return "product|" + id }
func stockKey(id string) string   { return "stock|" + id }

// Create stores the product and its stock, then lists it.
func (c *DaprCatalog) Create(ctx context.Context, p *domain.Product, stock int64) error {
	if err := c.store.Insert(ctx, productKey(p.ID), toProductRecord(p)); err != nil {
		return fmt.Errorf("store product %s: %w", p.ID, err)
	}
	if err := c.store.Insert(ctx, stockKey(p.ID), stockRecord{Available: stock}); err != nil {
		return fmt.Errorf("store stock of %s: %w", p.ID, err)
	}
	return c.putSummary(ctx, p.Summary(stock > 0))
}

// Get reads a product and its stock in one call to the sidecar.
func (c *DaprCatalog) Get(ctx context.Context, id string) (*domain.Product, *domain.Stock, error) {
	items, err := c.store.GetBulk(ctx, []string{productKey(id), stockKey(id)})
	if err != nil {
		return nil, nil, err
	}
	var p productRecord
	var s stockRecord
	for _, it := range items {
		switch it.Key {
		case productKey(id):
			if it.Value == nil {
				return nil, nil, domain.ErrNotFound
			}
			if err := decode(it, &p); err != nil {
				return nil, nil, err
			}
		case stockKey(id):
			if it.Value != nil {
				if err := decode(it, &s); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	if p.ID == "" {
		return nil, nil, domain.ErrNotFound
	}
	st := domain.Stock(s)
	return p.product(), &st, nil
}

// Products reads the named products in one call to the sidecar.
func (c *DaprCatalog) Products(ctx context.Context, ids []string) (map[string]*domain.Product, error) {
	return byID(ctx, c, ids, productKey, (*productRecord).product)
}

// Update changes a product's fields under its ETag and re-lists it (which
// also repairs an index entry lost to a crash). It returns the stock it
// read for the listing.
func (c *DaprCatalog) Update(ctx context.Context, id string, change func(*domain.Product) error) (*domain.Product, *domain.Stock, error) {
	r, err := statestore.Update(ctx, c.store, productKey(id), statestore.DefaultRetry, func(r *productRecord, found bool) (bool, error) {
		if !found {
			return false, domain.ErrNotFound
		}
		p := r.product()
		if err := change(p); err != nil {
			return false, err
		}
		*r = *toProductRecord(p)
		return true, nil
	})
	if err != nil {
		return nil, nil, conflictToDomain(err)
	}
	var sr stockRecord
	if _, _, err := c.store.Get(ctx, stockKey(id), &sr); err != nil {
		return nil, nil, err
	}
	p, s := r.product(), domain.Stock(sr)
	return p, &s, c.putSummary(ctx, p.Summary(s.Available > 0))
}

// Delete removes a product no open reservation holds.
func (c *DaprCatalog) Delete(ctx context.Context, id string) (*domain.Product, error) {
	var p productRecord
	found, etag, err := c.store.Get(ctx, productKey(id), &p)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, domain.ErrNotFound
	}
	var s stockRecord
	if _, _, err := c.store.Get(ctx, stockKey(id), &s); err != nil {
		return nil, err
	}
	if len(s.Holds) > 0 {
		return nil, domain.ErrHasReservations
	}
	// Unlist first: a crash after this leaves an unlisted product, not a
	// listed one that answers 404.
	if err := c.removeSummary(ctx, id); err != nil {
		return nil, err
	}
	if err := c.store.Delete(ctx, productKey(id), etag); err != nil {
		return nil, conflictToDomain(err)
	}
	if err := c.store.Delete(ctx, stockKey(id), ""); err != nil {
		return nil, err
	}
	return p.product(), nil
}

// Stocks reads many products' stock in bulk calls.
func (c *DaprCatalog) Stocks(ctx context.Context, ids []string) (map[string]*domain.Stock, error) {
	return byID(ctx, c, ids, stockKey, func(r *stockRecord) *domain.Stock { s := domain.Stock(*r); return &s })
}

// byID reads the records of ids under key(id) and answers them converted
// to domain values, by ID; missing ones are absent.
func byID[R, T any](ctx context.Context, c *DaprCatalog, ids []string, key func(string) string, toDomain func(*R) *T) (map[string]*T, error) {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = key(id)
	}
	byKey, err := statestore.GetAll[R](ctx, c.store, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*T, len(byKey))
	for i, k := range keys {
		if r, ok := byKey[k]; ok {
			out[ids[i]] = toDomain(r)
		}
	}
	return out, nil
}

// UpdateStock changes one product's stock by compare-and-swap, retrying on
// conflict, and re-lists the product when it goes in or out of stock.
func (c *DaprCatalog) UpdateStock(ctx context.Context, id string, change func(*domain.Stock) (bool, error)) (before, after domain.Stock, err error) {
	stored, err := statestore.Update(ctx, c.store, stockKey(id), stockRetry, func(r *stockRecord, found bool) (bool, error) {
		if !found {
			return false, domain.ErrNotFound
		}
		before = domain.Stock(*r)
		before.Holds, before.Returns, before.ReturnedAt = maps.Clone(r.Holds), maps.Clone(r.Returns), maps.Clone(r.ReturnedAt)
		s := domain.Stock(*r)
		changed, err := change(&s)
		*r = stockRecord(s)
		return changed, err
	})
	after = domain.Stock(stored)
	if err != nil {
		return before, after, conflictToDomain(err)
	}
	if (before.Available > 0) != (after.Available > 0) {
		// The stock change stands either way; only the listing's flag lags.
		if ierr := c.setInStock(ctx, id, after.Available > 0); ierr != nil {
			logging.FromContext(ctx).Error("in-stock flag of the listing not updated", zap.String("product_id", id), zap.Error(ierr))
		}
	}
	return before, after, nil
}

func (c *DaprCatalog) putSummary(ctx context.Context, s domain.Summary) error {
	return c.updateShard(ctx, ShardOf(s.ID), func(sh shard) { sh[s.ID] = s })
}

func (c *DaprCatalog) removeSummary(ctx context.Context, id string) error {
	return c.updateShard(ctx, ShardOf(id), func(sh shard) { delete(sh, id) })
}

func (c *DaprCatalog) setInStock(ctx context.Context, id string, inStock bool) error {
	return c.updateShard(ctx, ShardOf(id), func(sh shard) {
		if s, ok := sh[id]; ok {
			s.InStock = inStock
			sh[id] = s
		}
	})
}

// updateShard applies change to index shard n in the store, under its ETag,
// then to this replica's index.
func (c *DaprCatalog) updateShard(ctx context.Context, n int, change func(shard)) error {
	_, err := statestore.Update(ctx, c.store, shardKey(n), shardRetry, func(sh *shard, _ bool) (bool, error) {
		if *sh == nil {
			*sh = shard{}
		}
		change(*sh)
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("index shard %d: %w", n, err)
	}
	c.index.apply(n, change)
	return nil
}

func conflictToDomain(err error) error {
	if errors.Is(err, statestore.ErrConflict) {
		return fmt.Errorf("%w: %v", domain.ErrConflict, err)
	}
	return err
}

func decode(it statestore.Item, into any) error {
	if err := json.Unmarshal(it.Value, into); err != nil {
		return fmt.Errorf("decode %s: %w", it.Key, err)
	}
	return nil
}
