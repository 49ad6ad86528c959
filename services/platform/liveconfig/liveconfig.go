// Package liveconfig keeps a service's changeable settings current from a
// Dapr configuration store (the Configuration API), without a restart.
//
// A service names the keys it reads and one function that validates a
// complete set of values and puts it in force. Every change is offered to
// that function as the whole set it would produce; if the function refuses
// it, the set in force stays and the refusal is logged. A key absent from
// the store means "the value the service started with".
package liveconfig

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc"

	pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
)

// Store is the part of the sidecar's gRPC API this package uses.
type Store interface {
	GetConfiguration(ctx context.Context, in *pb.GetConfigurationRequest, opts ...grpc.CallOption) (*pb.GetConfigurationResponse, error)
	SubscribeConfiguration(ctx context.Context, in *pb.SubscribeConfigurationRequest, opts ...grpc.CallOption) (pb.Dapr_SubscribeConfigurationClient, error)
}

// Apply validates values (key to value, only the keys set in the store) and
// puts them in force, or returns why it refuses them. version names the set.
type Apply func(values map[string]string, version string) error

// Watcher follows keys of one configuration store.
type Watcher struct {
	store     Store
	storeName string
	keys      []string
	apply     Apply
	log       *zap.Logger

	mu      sync.Mutex
	current map[string]string // the set in force
}

// New follows keys of the component storeName through store.
func New(store Store, storeName string, keys []string, apply Apply, log *zap.Logger) *Watcher {
	return &Watcher{store: store, storeName: storeName, keys: keys, apply: apply, log: log.With(zap.String("config_store", storeName)), current: map[string]string{}}
}

// Run applies the store's values, then every change, until ctx ends. If the
// sidecar or the store goes away it subscribes again (with back-off) and
// re-reads every key, so a change made meanwhile is not missed.
func (w *Watcher) Run(ctx context.Context) {
	delay := 200 * time.Millisecond
	for ctx.Err() == nil {
		err := w.follow(ctx)
		if ctx.Err() != nil {
			return
		}
		w.log.Warn("configuration subscription ended; subscribing again", zap.Duration("in", delay), zap.Error(err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// follow subscribes, reads every key, then applies changes until the
// stream fails.
func (w *Watcher) follow(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := w.store.SubscribeConfiguration(ctx, &pb.SubscribeConfigurationRequest{StoreName: w.storeName, Keys: w.keys})
	if err != nil {
		return err
	}
	// Subscribed first, read second: a change between the two arrives on
	// the stream too, and offering it twice is harmless.
	got, err := w.read(ctx)
	if err != nil {
		return err
	}
	w.offer(snapshotOf(got))
	// Some stores (Redis) subscribe in the background after answering: a
	// change in that moment is on neither the stream nor the first read. Read
	// again shortly, then now and then, so nothing is missed for long.
	go func() {
		wait := time.Second
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			if err := w.resync(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("configuration re-read failed", zap.Error(err))
			}
			wait = ResyncInterval
		}
	}()
	for {
		msg, err := stream.Recv()
		if err != nil {
			return err
		}
		if len(msg.GetItems()) == 0 {
			continue // the first message only carries the subscription's ID
		}
		w.mu.Lock()
		next := maps.Clone(w.current)
		w.mu.Unlock()
		for k, item := range msg.GetItems() {
			if !slices.Contains(w.keys, k) {
				continue
			}
			if v := item.GetValue(); v != "" {
				next[k] = v
			} else {
				delete(next, k) // removed from the store: back to the start-up value
			}
		}
		w.offer(next)
	}
}

// ResyncInterval is how often every key is read again, besides the
// notifications (and once, a second after subscribing).
const ResyncInterval = 30 * time.Second

func (w *Watcher) read(ctx context.Context) (*pb.GetConfigurationResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return w.store.GetConfiguration(ctx, &pb.GetConfigurationRequest{StoreName: w.storeName, Keys: w.keys})
}

func (w *Watcher) resync(ctx context.Context) error {
	got, err := w.read(ctx)
	if err != nil {
		return err
	}
	w.offer(snapshotOf(got))
	return nil
}

func snapshotOf(got *pb.GetConfigurationResponse) map[string]string {
	out := map[string]string{}
	for k, item := range got.GetItems() {
		if v := item.GetValue(); v != "" {
			out[k] = v
		}
	}
	return out
}

// offer puts values in force if they differ from the set in force and
// apply accepts them.
func (w *Watcher) offer(values map[string]string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if maps.Equal(values, w.current) {
		return
	}
	version := Version(values)
	if err := w.apply(values, version); err != nil {
		w.log.Warn("configuration change refused; the previous values stay", zap.Any("offered", values),
			zap.String("version", version), zap.Error(err))
		return
	}
	w.current = values
	w.log.Info("configuration change applied", zap.Any("values", values), zap.String("version", version))
}

// Version names a set of values: "start-up" when the store sets none, else
// a short hash of the keys and values.
func Version(values map[string]string) string {
	if len(values) == 0 {
		return "start-up"
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(values)) {
		b.WriteString(k + "=" + values[k] + "\n")
	}
	sum := sha256.Sum256([]byte(b.String()))
	return "live-" + hex.EncodeToString(sum[:4])
}
