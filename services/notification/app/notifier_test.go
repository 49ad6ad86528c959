package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/daprshop/notification/app"
	"github.com/daprshop/notification/domain"
)

type sender struct {
	mu   sync.Mutex
	sent []string
	fail error
}

func (s *sender) Send(_ context.Context, key string, e domain.Email) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.sent = append(s.sent, key+" "+e.To)
	return nil
}

type ledger struct {
	seen       map[string]bool
	deliveries map[string]int
}

func (l *ledger) Seen(_ context.Context, id string) (bool, error)      { return l.seen[id], nil }
func (l *ledger) MarkSeen(_ context.Context, id string) error          { l.seen[id] = true; return nil }
func (l *ledger) Deliveries(_ context.Context, id string) (int, error) { return l.deliveries[id], nil }
func (l *ledger) CountDelivery(_ context.Context, id string) (int, error) {
	l.deliveries[id]++
	return l.deliveries[id], nil
}

type deadLetters struct{ m map[string]app.DeadLetter }

func (d *deadLetters) Add(_ context.Context, dl app.DeadLetter) error { d.m[dl.ID] = dl; return nil }
func (d *deadLetters) List(context.Context) ([]app.DeadLetter, error) {
	var out []app.DeadLetter
	for _, v := range d.m {
		out = append(out, v)
	}
	return out, nil
}
func (d *deadLetters) Get(_ context.Context, id string) (*app.DeadLetter, error) {
	v, ok := d.m[id]
	if !ok {
		return nil, app.ErrNotFound
	}
	return &v, nil
}
func (d *deadLetters) CountReplay(_ context.Context, id string) error {
	v := d.m[id]
	v.Replays++
	d.m[id] = v
	return nil
}

type republished struct{ events []app.Event }

func (r *republished) Republish(_ context.Context, e app.Event) error {
	r.events = append(r.events, e)
	return nil
}

var ctx = context.Background()

func event(id, email string) app.Event {
	data, _ := json.Marshal(map[string]string{"orderId": "o1", "email": email})
	return app.Event{ID: id, Type: "order.shipped", Topic: "order.shipped", Data: data}
}

func TestHandle(t *testing.T) {
	s := &sender{}
	l := &ledger{seen: map[string]bool{}, deliveries: map[string]int{}}
	n := app.New(s, l, &deadLetters{m: map[string]app.DeadLetter{}}, &republished{})

	if r := n.Handle(ctx, "order.shipped", event("e1", "ann@example.com")); r != app.Handled {
		t.Fatalf("first delivery: %s", r)
	}
	if r := n.Handle(ctx, "order.shipped", event("e1", "ann@example.com")); r != app.Handled || len(s.sent) != 1 {
		t.Fatalf("a redelivery sent again: %s %v", r, s.sent)
	}
	if r := n.Handle(ctx, "order.shipped", event("e2", "not an address")); r != app.Undeliverable {
		t.Fatalf("malformed: %s", r)
	}
	s.fail = errors.New("451")
	if r := n.Handle(ctx, "order.shipped", event("e3", "bob@example.com")); r != app.TryAgain || l.seen["e3"] {
		t.Fatalf("transient failure: %s", r)
	}
	s.fail = nil
	if r := n.Handle(ctx, "order.shipped", event("e3", "bob@example.com")); r != app.Handled || l.deliveries["e3"] != 2 {
		t.Fatalf("retry: %s, deliveries %d", r, l.deliveries["e3"])
	}
}

func TestDeadLettersAndReplay(t *testing.T) {
	l := &ledger{seen: map[string]bool{}, deliveries: map[string]int{"e9": 4}}
	rep := &republished{}
	n := app.New(&sender{}, l, &deadLetters{m: map[string]app.DeadLetter{}}, rep)
	if r := n.HandleDeadLetter(ctx, event("e9", "x@fail.invalid")); r != app.Handled {
		t.Fatal(r)
	}
	list, _ := n.DeadLetters(ctx)
	if len(list) != 1 || list[0].Deliveries != 4 || list[0].Topic != "order.shipped" {
		t.Fatalf("dead letters %+v", list)
	}
	d, err := n.Replay(ctx, "e9")
	if err != nil || d.Replays != 1 || len(rep.events) != 1 || rep.events[0].ID != "e9" || rep.events[0].Topic != "order.shipped" {
		t.Fatalf("replay: %+v %v %+v", d, err, rep.events)
	}
	if _, err := n.Replay(ctx, "nope"); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
}
