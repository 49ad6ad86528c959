// Package adapters implements the product service's interfaces on Dapr:
// products, stock and the catalog index in a state store, reservations,
// and expiry as Dapr jobs.
package adapters

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/product/domain"
)

// Shards is the number of catalog index documents. Products are spread over
// them by a hash of their ID; changing it needs a re-import (see README).
const Shards = 64

// ShardOf returns the index shard of a product.
func ShardOf(productID string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(productID))
	return int(h.Sum32() % Shards)
}

func shardKey(n int) string { return fmt.Sprintf("catalog|shard|%02d", n) }

// shard is one index document: product ID -> summary.
type shard map[string]domain.Summary

// Index is the catalog read model: every product summary, held in memory
// and searched there (no state store offers search everywhere: the Dapr
// query API needs RediSearch on Redis). It is loaded from the shard
// documents at start, refreshed from them periodically (so replicas see
// each other's writes within one refresh interval) and updated at once by
// this replica's own writes.
type Index struct {
	store    *statestore.Store
	log      *zap.Logger
	mu       sync.Mutex
	shards   [Shards]shard
	etags    [Shards]string
	gen      [Shards]uint64 // bumped by local writes, so an older refresh does not undo them
	snapshot atomic.Pointer[domain.Catalog]
	loaded   bool // under mu
}

// NewIndex reads and writes the shards in store.
func NewIndex(store *statestore.Store, log *zap.Logger) *Index {
	ix := &Index{store: store, log: log}
	ix.snapshot.Store(domain.NewCatalog(nil))
	return ix
}

// Catalog is the current snapshot; it never blocks.
func (ix *Index) Catalog() *domain.Catalog { return ix.snapshot.Load() }

// Refresh reads every shard in one bulk call and rebuilds the snapshot if
// any changed since the last read.
func (ix *Index) Refresh(ctx context.Context) error {
	keys := make([]string, Shards)
	for i := range keys {
		keys[i] = shardKey(i)
	}
	ix.mu.Lock()
	genAtStart := ix.gen
	ix.mu.Unlock()

	items, err := ix.store.GetBulk(ctx, keys)
	if err != nil {
		return err
	}
	byKey := make(map[string]statestore.Item, len(items))
	for _, it := range items {
		byKey[it.Key] = it
	}

	ix.mu.Lock()
	defer ix.mu.Unlock()
	changed := !ix.loaded
	for i := range Shards {
		it := byKey[keys[i]]
		if ix.gen[i] != genAtStart[i] || it.ETag == ix.etags[i] && ix.shards[i] != nil {
			continue // written here meanwhile, or unchanged
		}
		s := shard{}
		if it.Value != nil {
			if err := json.Unmarshal(it.Value, &s); err != nil {
				return fmt.Errorf("decode %s: %w", keys[i], err)
			}
		}
		ix.shards[i], ix.etags[i] = s, it.ETag
		changed = true
	}
	if changed {
		ix.rebuild()
	}
	ix.loaded = true
	return nil
}

// Run refreshes every interval until ctx ends. Failures are logged and
// retried at the next tick; the last snapshot keeps serving meanwhile.
func (ix *Index) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := ix.Refresh(ctx); err != nil && ctx.Err() == nil {
				ix.log.Warn("catalog index refresh failed; serving the previous snapshot", zap.Error(err))
			}
		}
	}
}

// apply records a change this replica has just written to a shard.
func (ix *Index) apply(n int, change func(shard)) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.shards[n] == nil {
		ix.shards[n] = shard{}
	}
	change(ix.shards[n])
	ix.gen[n]++
	ix.rebuild()
}

// rebuild replaces the snapshot; callers hold mu.
func (ix *Index) rebuild() {
	n := 0
	for _, s := range ix.shards {
		n += len(s)
	}
	all := make([]domain.Summary, 0, n)
	for _, s := range ix.shards {
		for _, sum := range s {
			all = append(all, sum)
		}
	}
	ix.snapshot.Store(domain.NewCatalog(all))
}
