package outbox_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"

	"github.com/daprshop/platform/daprtest"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/fakeclock"
	"github.com/daprshop/platform/outbox"
	"github.com/daprshop/platform/statestore"
)

// published records what reached the broker; down fails every publish.
type published struct {
	mu   sync.Mutex
	ids  []string
	down bool
}

func (p *published) Publish(_ context.Context, e events.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return errors.New("broker unreachable")
	}
	p.ids = append(p.ids, e.ID)
	return nil
}

func (p *published) got() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ids)
}

// The outbox on a real state store through daprd (the repository's own
// Redis component): an event announced is crossed off and not published
// again; one whose request died after its change, or met the broker down,
// is published by the sweep; one whose change never happened is dropped.
func TestOutbox(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts daprd")
	}
	component := daprtest.RepoComponent(t, "components/product-store.yaml", "outbox-"+uuid.NewString()[:8])
	sc := daprtest.Start(t, daprtest.Options{AppID: "product", Resources: []string{component}})
	client, err := dapr.NewClientWithAddress(sc.GRPCAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()

	// The "service": subjects that exist after their change committed.
	var mu sync.Mutex
	committed := map[string]bool{}
	restate := func(_ context.Context, e events.Event) (events.Event, bool, error) {
		mu.Lock()
		defer mu.Unlock()
		return e, committed[e.Subject], nil
	}
	clock := fakeclock.New(time.Now().UTC().Truncate(time.Minute))
	pub := &published{}
	box := outbox.New(statestore.New(client, "product-store"), pub, restate, clock.Now)
	event := func(subject string) events.Event {
		return events.Event{ID: "thing.made/" + subject, Topic: "thing.made", Subject: subject, Data: map[string]string{"subject": subject}}
	}
	change := func(subject string, commit bool, announce func(outbox.Ticket, events.Event)) {
		e := event(subject)
		ticket, err := box.Expect(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		if commit {
			mu.Lock()
			committed[subject] = true
			mu.Unlock()
		}
		if announce != nil {
			announce(ticket, e)
		}
	}
	announce := func(t outbox.Ticket, e events.Event) { box.Announce(ctx, t, e) }

	change("happy", true, announce)
	change("died-after-commit", true, nil)
	change("never-made", false, nil)
	pub.down = true
	change("broker-down", true, announce)
	pub.down = false
	if got := pub.got(); !slices.Equal(got, []string{"thing.made/happy"}) {
		t.Fatalf("published at once: %v", got)
	}

	if n, err := box.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("a sweep within the grace published %d (%v): the requests may still be running", n, err)
	}
	clock.Advance(outbox.Grace + time.Minute)
	if n, err := box.Sweep(ctx); err != nil || n != 2 {
		t.Fatalf("sweep: published %d, %v; want 2", n, err)
	}
	got := pub.got()
	slices.Sort(got)
	if want := []string{"thing.made/broker-down", "thing.made/died-after-commit", "thing.made/happy"}; !slices.Equal(got, want) {
		t.Fatalf("published %v, want %v: each committed change once, the one never made not at all", got, want)
	}
	if n, err := box.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("a second sweep published %d (%v)", n, err)
	}
}
