package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/daprshop/notification/app"
	"github.com/daprshop/notification/domain"
	"github.com/daprshop/platform/fakeclock"
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

// ledger keeps claims in memory, each with a version that every write
// changes, as a state store's ETag does.
type ledger struct {
	mu         sync.Mutex
	claims     map[string]app.Claim
	versions   map[string]int
	deliveries map[string]int
}

func newLedger() *ledger {
	return &ledger{claims: map[string]app.Claim{}, versions: map[string]int{}, deliveries: map[string]int{}}
}

func (l *ledger) write(id string, c app.Claim) {
	l.claims[id] = c
	l.versions[id]++
}

func (l *ledger) Claim(_ context.Context, id string, c app.Claim) (*app.Claim, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.claims[id]; ok {
		return &old, fmt.Sprint(l.versions[id]), nil
	}
	l.write(id, c)
	return nil, "", nil
}

func (l *ledger) Retake(_ context.Context, id, version string, c app.Claim) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.claims[id]; !ok || fmt.Sprint(l.versions[id]) != version {
		return false, nil
	}
	l.write(id, c)
	return true, nil
}

func (l *ledger) Finish(_ context.Context, id string, c app.Claim) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.write(id, c)
	return nil
}

func (l *ledger) Release(_ context.Context, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.claims, id)
	return nil
}

func (l *ledger) Open(_ context.Context, before time.Time) ([]app.OpenClaim, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []app.OpenClaim
	for id, c := range l.claims {
		if !c.Sent() && c.ClaimedAt.Before(before) {
			out = append(out, app.OpenClaim{EventID: id, Version: fmt.Sprint(l.versions[id]), Claim: c})
		}
	}
	return out, nil
}

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

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestHandle(t *testing.T) {
	s := &sender{}
	l := newLedger()
	n := app.New(s, l, &deadLetters{m: map[string]app.DeadLetter{}}, &republished{}, time.Minute, fakeclock.New(t0).Now)

	if r := n.Handle(ctx, "order.shipped", event("e1", "ann@example.com")); r != app.Handled || !l.claims["e1"].Sent() {
		t.Fatalf("first delivery: %s, claim %+v", r, l.claims["e1"])
	}
	if r := n.Handle(ctx, "order.shipped", event("e1", "ann@example.com")); r != app.Handled || len(s.sent) != 1 {
		t.Fatalf("a redelivery sent again: %s %v", r, s.sent)
	}
	if r := n.Handle(ctx, "order.shipped", event("e2", "not an address")); r != app.Undeliverable || len(l.claims) != 1 {
		t.Fatalf("malformed: %s, claims %v", r, l.claims)
	}
	s.fail = errors.New("451")
	if r := n.Handle(ctx, "order.shipped", event("e3", "bob@example.com")); r != app.TryAgain {
		t.Fatalf("transient failure: %s", r)
	}
	if _, claimed := l.claims["e3"]; claimed {
		t.Fatal("a failed send kept its claim: the redelivery would send nothing")
	}
	s.fail = nil
	if r := n.Handle(ctx, "order.shipped", event("e3", "bob@example.com")); r != app.Handled || l.deliveries["e3"] != 1 || len(s.sent) != 2 {
		t.Fatalf("retry: %s, failed deliveries %d (want the one that failed), sent %v", r, l.deliveries["e3"], s.sent)
	}
	if l.deliveries["e1"] != 0 || l.deliveries["e2"] != 1 {
		t.Errorf("counted: %v, want only the failed deliveries", l.deliveries)
	}
}

// A sender that dies after claiming leaves a claim that sends nothing for
// the lease: a copy delivered meanwhile is dropped (the claim's sender may
// still be sending), a copy after it takes the claim over and sends once.
func TestAClaimWhoseSenderDiedIsTakenOver(t *testing.T) {
	s, l, clock := &sender{}, newLedger(), fakeclock.New(t0)
	n := app.New(s, l, &deadLetters{m: map[string]app.DeadLetter{}}, &republished{}, time.Minute, clock.Now)
	l.claims["e1"] = app.Claim{Email: domain.Email{To: "ann@example.com"}, ClaimedAt: t0} // the dead sender's

	clock.Advance(30 * time.Second)
	if r := n.Handle(ctx, "order.shipped", event("e1", "ann@example.com")); r != app.Handled || len(s.sent) != 0 {
		t.Fatalf("within the lease: %s, sent %v", r, s.sent)
	}
	clock.Advance(31 * time.Second)
	if r := n.Handle(ctx, "order.shipped", event("e1", "ann@example.com")); r != app.Handled || len(s.sent) != 1 {
		t.Fatalf("after the lease: %s, sent %v", r, s.sent)
	}
	if r := n.Handle(ctx, "order.shipped", event("e1", "ann@example.com")); r != app.Handled || len(s.sent) != 1 {
		t.Fatalf("after the take-over: %s, sent %v", r, s.sent)
	}
}

// The sweep sends what claims older than the lease left unsent, and nothing
// else; a send that fails there keeps the claim for the next sweep.
func TestTheSweepFinishesStaleClaims(t *testing.T) {
	s, l, clock := &sender{}, newLedger(), fakeclock.New(t0)
	n := app.New(s, l, &deadLetters{m: map[string]app.DeadLetter{}}, &republished{}, time.Minute, clock.Now)
	stale := app.Claim{Email: domain.Email{To: "ann@example.com"}, ClaimedAt: t0}
	l.claims["stale"] = stale
	l.claims["sent"] = app.Claim{Email: domain.Email{To: "bob@example.com"}, ClaimedAt: t0, SentAt: t0}
	clock.Advance(2 * time.Minute)
	l.claims["fresh"] = app.Claim{Email: domain.Email{To: "cy@example.com"}, ClaimedAt: clock.Now()}

	s.fail = errors.New("smtp down")
	if sent, err := n.Sweep(ctx); err != nil || sent != 0 || l.claims["stale"].Sent() {
		t.Fatalf("failing sweep: %d %v, claim %+v", sent, err, l.claims["stale"])
	}
	s.fail = nil
	if sent, _ := n.Sweep(ctx); sent != 0 {
		t.Fatalf("the failed claim was retried within its new lease: %d", sent)
	}
	clock.Advance(61 * time.Second)
	sent, err := n.Sweep(ctx)
	if err != nil || sent != 2 || fmt.Sprint(s.sent) != "[stale ann@example.com fresh cy@example.com]" && fmt.Sprint(s.sent) != "[fresh cy@example.com stale ann@example.com]" {
		t.Fatalf("sweep: %d %v, sent %v", sent, err, s.sent)
	}
	if sent, _ := n.Sweep(ctx); sent != 0 {
		t.Fatalf("a second sweep sent %d again", sent)
	}
}

func TestDeadLettersAndReplay(t *testing.T) {
	l := newLedger()
	l.deliveries["e9"] = 4
	rep := &republished{}
	failing := &sender{fail: errors.New("mailbox unavailable")}
	n := app.New(failing, l, &deadLetters{m: map[string]app.DeadLetter{}}, rep, 0, nil)
	if r := n.HandleDeadLetter(ctx, event("e9", "x@fail.invalid")); r != app.Handled {
		t.Fatal(r)
	}
	// Tried once more on arrival (the fifth delivery), then kept.
	list, _ := n.DeadLetters(ctx)
	if len(list) != 1 || list[0].Deliveries != 5 || list[0].Topic != "order.shipped" {
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

// An event dead-lettered while the notifier was down is handled when its
// dead letter arrives, once the notifier is back: one email, nothing kept.
func TestADeadLetterOfAnEventThatCanBeHandledNowIsHandled(t *testing.T) {
	s, dead := &sender{}, &deadLetters{m: map[string]app.DeadLetter{}}
	n := app.New(s, newLedger(), dead, &republished{}, 0, nil)
	if r := n.HandleDeadLetter(ctx, event("e10", "ann@example.com")); r != app.Handled {
		t.Fatal(r)
	}
	if r := n.HandleDeadLetter(ctx, event("e10", "ann@example.com")); r != app.Handled {
		t.Fatal(r)
	}
	if list, _ := n.DeadLetters(ctx); len(s.sent) != 1 || len(list) != 0 {
		t.Fatalf("sent %v, kept %+v", s.sent, list)
	}
}
