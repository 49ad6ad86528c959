package adapters_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"

	"github.com/daprshop/notification/adapters"
	"github.com/daprshop/notification/app"
	"github.com/daprshop/notification/domain"
	"github.com/daprshop/platform/daprtest"
	"github.com/daprshop/platform/statestore"
)

// The ledger and the dead letters through a real daprd, on the repository's own component files
// (Redis, and PostgreSQL of the postgres-rabbitmq profile): a claim is
// taken once, a stale one is taken over once, and the open claims of past
// minutes are found until they are finished, after which their minute's
// list is dropped.
func TestStateLedger(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts daprd")
	}
	for name, file := range map[string]string{
		"redis":      "components/notification-store.yaml",
		"postgresql": "components/profiles/postgres-rabbitmq/notification-store.yaml",
	} {
		t.Run(name, func(t *testing.T) {
			component := daprtest.RepoComponent(t, file, "ledger-"+uuid.NewString()[:8])
			sc := daprtest.Start(t, daprtest.Options{AppID: "notification", Resources: []string{component}})
			client, err := dapr.NewClientWithAddress(sc.GRPCAddr())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { client.Close() })
			store := statestore.New(client, "notification-store")
			ledgerContract(t, adapters.NewStateLedger(store, time.Hour))
			deadLettersKept(t, adapters.NewStateDeadLetters(store, 3))
		})
	}
}

func ledgerContract(t *testing.T, l *adapters.StateLedger) {
	ctx := context.Background()
	// Claims of minutes that have ended: now is the next minute.
	t0 := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Minute)
	claim := func(to string, at time.Time) app.Claim {
		return app.Claim{Email: domain.Email{To: to, Subject: "s", Body: "b"}, ClaimedAt: at}
	}
	a, b, c := "a-"+uuid.NewString(), "b-"+uuid.NewString(), "c-"+uuid.NewString()

	if existing, _, err := l.Claim(ctx, a, claim("ann@example.com", t0)); err != nil || existing != nil {
		t.Fatalf("first claim: %+v %v", existing, err)
	}
	existing, version, err := l.Claim(ctx, a, claim("other@example.com", t0.Add(time.Second)))
	if err != nil || existing == nil || existing.Email.To != "ann@example.com" || !existing.ClaimedAt.Equal(t0) || version == "" {
		t.Fatalf("second claim: %+v %q %v", existing, version, err)
	}
	if took, err := l.Retake(ctx, a, version, claim("ann@example.com", t0.Add(30*time.Second))); err != nil || !took {
		t.Fatalf("retake: %v %v", took, err)
	}
	if took, err := l.Retake(ctx, a, version, claim("ann@example.com", t0.Add(31*time.Second))); err != nil || took {
		t.Fatalf("a retake on the old version: %v %v", took, err)
	}
	for _, id := range []string{b, c} {
		if _, _, err := l.Claim(ctx, id, claim(id+"@example.com", t0.Add(70*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	sent := claim(b+"@example.com", t0.Add(70*time.Second))
	sent.SentAt = t0.Add(71 * time.Second)
	if err := l.Finish(ctx, b, sent); err != nil {
		t.Fatal(err)
	}

	open := func(before time.Time) map[string]app.OpenClaim {
		t.Helper()
		list, err := l.Open(ctx, before)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]app.OpenClaim{}
		for _, o := range list {
			if o.EventID == a || o.EventID == b || o.EventID == c {
				out[o.EventID] = o
			}
		}
		return out
	}
	// Before t0+60s only a's minute counts; a was retaken at t0+30s.
	if got := open(t0.Add(31 * time.Second)); len(got) != 1 || got[a].Claim.Email.To != "ann@example.com" || got[a].Version == "" {
		t.Fatalf("open before t0+31s: %+v", got)
	}
	if got := open(t0.Add(30 * time.Second)); len(got) != 0 {
		t.Fatalf("open before t0+30s: %+v", got)
	}
	got := open(t0.Add(2 * time.Minute))
	if len(got) != 2 || got[c].EventID != c {
		t.Fatalf("open before t0+2m: want a and c, got %+v", got)
	}
	if took, err := l.Retake(ctx, c, got[c].Version, claim("c@example.com", t0.Add(2*time.Minute))); err != nil || !took {
		t.Fatalf("retake of an open claim: %v %v", took, err)
	}
	sent = claim("ann@example.com", t0.Add(30*time.Second))
	sent.SentAt = t0.Add(2 * time.Minute)
	if err := l.Finish(ctx, a, sent); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got := open(t0.Add(2 * time.Minute)); len(got) != 0 {
		t.Fatalf("after finishing a and giving c up: %+v", got)
	}
	// Both minutes are finished: their lists are gone, so a claim that
	// appeared in them now would not be found.
	if got := open(t0.Add(3 * time.Minute)); len(got) != 0 {
		t.Fatalf("lists kept after they finished: %+v", got)
	}

	if n, err := l.CountDelivery(ctx, a); err != nil || n != 1 {
		t.Fatalf("count: %d %v", n, err)
	}
	if n, _ := l.CountDelivery(ctx, a); n != 2 {
		t.Fatalf("count again: %d", n)
	}
	if n, err := l.Deliveries(ctx, a); err != nil || n != 2 {
		t.Fatalf("deliveries: %d %v", n, err)
	}
}

// Past keep, the oldest dead letter is dropped with its record; the list
// reads newest first.
func deadLettersKept(t *testing.T, d *adapters.StateDeadLetters) {
	ctx := context.Background()
	var ids []string
	for i := range 5 {
		id := fmt.Sprintf("dl-%d-%s", i, uuid.NewString()[:8])
		ids = append(ids, id)
		if err := d.Add(ctx, app.DeadLetter{ID: id, Topic: "order.paid", Data: []byte(`{}`), Deliveries: 4, ArrivedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := d.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range list {
		got = append(got, l.ID)
	}
	if want := []string{ids[4], ids[3], ids[2]}; !slices.Equal(got, want) {
		t.Fatalf("kept %v, want the newest three %v", got, want)
	}
	if _, err := d.Get(ctx, ids[0]); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("the oldest dead letter's record: %v, want it dropped", err)
	}
}
