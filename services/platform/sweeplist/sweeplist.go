// Package sweeplist is a to-do list in a state store for work that must
// finish even if the process doing it dies: an ID is written down under
// the current minute before the work starts, and a sweep reads the minutes
// that have passed, finishes what it finds unfinished, and drops the
// minutes whose work is all done.
//
// Keys: <prefix>|<unix minute>|<shard> hold IDs (sharded so that
// concurrent writers rarely contend), <prefix>|minutes the minutes that
// have lists. Everything expires after the retention, should the sweep
// never run.
package sweeplist

import (
	"context"
	"hash/fnv"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/daprshop/platform/statestore"
)

// Shards is how many lists one minute is spread over.
const Shards = 4

// List is one kind of work's to-do list.
type List struct {
	store     *statestore.Store
	prefix    string
	retention time.Duration

	mu     sync.Mutex
	listed map[int64]bool // minutes this process knows <prefix>|minutes holds
}

// New returns the list under prefix in store; its keys expire after retention.
func New(store *statestore.Store, prefix string, retention time.Duration) *List {
	return &List{store: store, prefix: prefix, retention: retention, listed: map[int64]bool{}}
}

func (l *List) minutesKey() string { return MinutesKey(l.prefix) }

func (l *List) key(minute int64, shard int) string { return listKey(l.prefix, minute, shard) }

func listKey(prefix string, minute int64, shard int) string {
	return prefix + "|" + strconv.FormatInt(minute, 10) + "|" + strconv.Itoa(shard)
}

// MinutesKey is the key of the minutes that have lists.
func MinutesKey(prefix string) string { return prefix + "|minutes" }

// ListKey is the key of the list id goes on when added at at.
func ListKey(prefix, id string, at time.Time) string {
	return listKey(prefix, at.Unix()/60, shardOf(id))
}

func shardOf(id string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % Shards)
}

// Add writes id down under the minute of at. Call it before the work
// starts: work that exists is then always on a list the sweep reads.
func (l *List) Add(ctx context.Context, id string, at time.Time) error {
	minute := at.Unix() / 60
	l.mu.Lock()
	listed := l.listed[minute]
	l.mu.Unlock()
	if !listed {
		_, err := statestore.UpdateExpiring(ctx, l.store, l.minutesKey(), l.retention, statestore.RecordRetry, func(ms *[]int64, _ bool) (bool, error) {
			if slices.Contains(*ms, minute) {
				return false, nil
			}
			*ms = append(*ms, minute)
			return true, nil
		})
		if err != nil {
			return err
		}
		l.mu.Lock()
		for m := range l.listed {
			if m < minute-60 {
				delete(l.listed, m) // an hour back is enough to remember
			}
		}
		l.listed[minute] = true
		l.mu.Unlock()
	}
	_, err := statestore.UpdateExpiring(ctx, l.store, l.key(minute, shardOf(id)), l.retention, statestore.RecordRetry, func(ids *[]string, _ bool) (bool, error) {
		if slices.Contains(*ids, id) {
			return false, nil
		}
		*ids = append(*ids, id)
		return true, nil
	})
	return err
}

// Minute is one minute's IDs.
type Minute struct {
	At  int64 // unix minute
	IDs []string
}

// Ended reports whether the minute ended before t: no ID is added to it
// any more.
func (m Minute) Ended(t time.Time) bool { return (m.At+1)*60 <= t.Unix() }

// Before returns the minutes that began before t, with their IDs.
func (l *List) Before(ctx context.Context, t time.Time) ([]Minute, error) {
	var minutes []int64
	if _, _, err := l.store.Get(ctx, l.minutesKey(), &minutes); err != nil {
		return nil, err
	}
	var out []Minute
	for _, m := range minutes {
		if m*60 >= t.Unix() {
			continue
		}
		keys := make([]string, Shards)
		for s := range Shards {
			keys[s] = l.key(m, s)
		}
		lists, err := statestore.GetAll[[]string](ctx, l.store, keys)
		if err != nil {
			return nil, err
		}
		minute := Minute{At: m}
		for _, k := range keys {
			if ids := lists[k]; ids != nil {
				minute.IDs = append(minute.IDs, *ids...)
			}
		}
		out = append(out, minute)
	}
	return out, nil
}

// Drop forgets minutes whose work is all done. Drop only minutes that
// Ended: nothing is added to them any more.
func (l *List) Drop(ctx context.Context, minutes []int64) error {
	if len(minutes) == 0 {
		return nil
	}
	_, err := statestore.UpdateExpiring(ctx, l.store, l.minutesKey(), l.retention, statestore.RecordRetry, func(ms *[]int64, _ bool) (bool, error) {
		*ms = slices.DeleteFunc(*ms, func(m int64) bool { return slices.Contains(minutes, m) })
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, m := range minutes {
		for s := range Shards {
			if err := l.store.Delete(ctx, l.key(m, s), ""); err != nil {
				return err // listed no more: its own expiry removes it
			}
		}
	}
	return nil
}
