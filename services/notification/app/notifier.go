// Package app holds the notifier: it turns delivered events into emails,
// once per event, and keeps what could not be delivered for replay.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/daprshop/notification/domain"
	"github.com/daprshop/platform/logging"
)

// Outcome is what became of a delivery; the port answers the broker with it.
type Outcome int

const (
	// Handled: done now or before; the message is finished.
	Handled Outcome = iota + 1
	// TryAgain: a transient failure; the message is to be delivered again
	// (and, past the broker's retries, dead-lettered).
	TryAgain
	// Undeliverable: the message can never succeed; it goes to the dead
	// letters at once.
	Undeliverable
)

func (o Outcome) String() string {
	switch o {
	case Handled:
		return "handled"
	case TryAgain:
		return "try again"
	case Undeliverable:
		return "undeliverable"
	}
	return "unknown"
}

// Event is a delivered event: its ID (the same for every copy of one
// fact), type, source, topic and JSON payload.
type Event struct {
	ID     string
	Type   string
	Source string
	Topic  string
	Data   json.RawMessage
}

// Sender sends an email. key identifies it, so a resend after a crash
// replaces rather than duplicates where the transport allows (a file);
// SMTP cannot take it back, so delivery there is at least once.
type Sender interface {
	Send(ctx context.Context, key string, e domain.Email) error
}

// Claim is the right to send one event's email. The first delivery of an
// event takes it before sending, so a redelivery or a second copy finds it
// and sends nothing; a claim whose sender died before finishing is taken
// over by the sweep (or a later delivery) once its lease has run out.
type Claim struct {
	Email     domain.Email
	ClaimedAt time.Time
	SentAt    time.Time // zero until the email went
}

// Sent reports whether the claim's email went.
func (c Claim) Sent() bool { return !c.SentAt.IsZero() }

// OpenClaim is a claim not finished, with its version for Retake.
type OpenClaim struct {
	EventID string
	Version string
	Claim   Claim
}

// Ledger records the claims, and counts deliveries.
type Ledger interface {
	// Claim stores c for eventID unless a claim is there: then it answers
	// that claim and its version instead (nil when c was stored).
	Claim(ctx context.Context, eventID string, c Claim) (existing *Claim, version string, err error)
	// Retake replaces the claim at version with c; false if another took
	// it first.
	Retake(ctx context.Context, eventID, version string, c Claim) (bool, error)
	// Finish records that eventID's email went: c, with its SentAt.
	Finish(ctx context.Context, eventID string, c Claim) error
	// Release gives up a claim whose send failed, so the next delivery sends.
	Release(ctx context.Context, eventID string) error
	// Open returns the claims taken before `before` that are not finished.
	Open(ctx context.Context, before time.Time) ([]OpenClaim, error)
	// CountDelivery records one more failed delivery of eventID and
	// returns the count.
	CountDelivery(ctx context.Context, eventID string) (int, error)
	// Deliveries returns how often eventID's delivery failed.
	Deliveries(ctx context.Context, eventID string) (int, error)
}

// DeadLetter is an event that reached the dead-letter topic.
type DeadLetter struct {
	ID         string
	Topic      string
	Type       string
	Data       json.RawMessage
	Deliveries int
	ArrivedAt  time.Time
	Replays    int
}

// DeadLetters keeps dead letters.
type DeadLetters interface {
	Add(ctx context.Context, d DeadLetter) error
	List(ctx context.Context) ([]DeadLetter, error)
	Get(ctx context.Context, id string) (*DeadLetter, error)
	CountReplay(ctx context.Context, id string) error
}

// Republisher puts an event back on its topic, under its own ID.
type Republisher interface {
	Republish(ctx context.Context, e Event) error
}

// ErrNotFound: no such dead letter.
var ErrNotFound = errors.New("dead letter not found")

// Notifier implements the use cases.
type Notifier struct {
	sender Sender
	ledger Ledger
	dead   DeadLetters
	replay Republisher
	lease  time.Duration
	now    func() time.Time
}

// DefaultLease is how long a claim is its sender's before it may be taken
// over: longer than one send may take (the sender's deadline is 10 s).
const DefaultLease = time.Minute

// New returns the notifier. A claim older than lease whose email has not
// gone is taken to be its sender's crash (0: DefaultLease); now is the
// clock (nil: time.Now).
func New(s Sender, l Ledger, d DeadLetters, r Republisher, lease time.Duration, now func() time.Time) *Notifier {
	if lease <= 0 {
		lease = DefaultLease
	}
	if now == nil {
		now = time.Now
	}
	return &Notifier{sender: s, ledger: l, dead: d, replay: r, lease: lease, now: now}
}

// Handle sends the email for one delivered event, once per event ID: it
// claims the event, sends, then records the send. A copy that finds the
// claim sends nothing: the claim's sender finishes it, or, if that sender
// died, the sweep does once the lease has run out (or this copy, if it
// arrives after that).
func (n *Notifier) Handle(ctx context.Context, topic string, e Event) Outcome {
	log := logging.FromContext(ctx).With(zap.String("event_id", e.ID), zap.String("topic", topic))
	o := n.handle(ctx, log, topic, e)
	// Only a delivery that failed is counted: the count is what a dead
	// letter shows, and every delivery of a dead letter failed.
	if o != Handled {
		if _, err := n.ledger.CountDelivery(ctx, e.ID); err != nil {
			log.Warn("delivery not counted", zap.Error(err))
		}
	}
	return o
}

func (n *Notifier) handle(ctx context.Context, log *zap.Logger, topic string, e Event) Outcome {
	email, err := domain.Render(topic, e.Data)
	if err != nil {
		log.Error("event cannot become an email; to the dead-letter topic", zap.Error(err))
		return Undeliverable
	}
	claim := Claim{Email: email, ClaimedAt: n.now().UTC()}
	existing, version, err := n.ledger.Claim(ctx, e.ID, claim)
	if err != nil {
		log.Warn("claim not recorded; retry later", zap.Error(err))
		return TryAgain
	}
	if existing != nil {
		switch {
		case existing.Sent():
			log.Info("duplicate delivery: its email went already")
			return Handled
		case n.now().Sub(existing.ClaimedAt) < n.lease:
			log.Info("duplicate delivery: its email is being sent", zap.Time("claimed_at", existing.ClaimedAt))
			return Handled
		}
		took, err := n.ledger.Retake(ctx, e.ID, version, claim)
		if err != nil {
			log.Warn("stale claim not taken over; retry later", zap.Error(err))
			return TryAgain
		}
		if !took {
			log.Info("duplicate delivery: another took the stale claim over")
			return Handled
		}
		log.Warn("took over a claim whose sender did not finish", zap.Time("claimed_at", existing.ClaimedAt))
	}
	if err := n.send(ctx, log, e.ID, claim); err != nil {
		// Given up, so that the redelivery sends.
		if err := n.ledger.Release(ctx, e.ID); err != nil {
			log.Warn("claim not given up; the sweep takes it over", zap.Error(err))
		}
		return TryAgain
	}
	return Handled
}

// send sends a claimed email and records that it went.
func (n *Notifier) send(ctx context.Context, log *zap.Logger, eventID string, c Claim) error {
	if err := n.sender.Send(ctx, eventID, c.Email); err != nil {
		log.Warn("email not sent; will retry", zap.Error(err))
		return err
	}
	c.SentAt = n.now().UTC()
	if err := n.ledger.Finish(ctx, eventID, c); err != nil {
		// The email went; the claim stays open, and the sweep sends it again
		// (a file is replaced; SMTP sends a second copy).
		log.Warn("sent but not recorded", zap.Error(err))
		return nil
	}
	log.Info("email sent", zap.String("to", c.Email.To), zap.String("subject", c.Email.Subject))
	return nil
}

// Sweep finishes the claims whose sender died: each claim older than the
// lease whose email has not gone is taken over and sent. It answers how
// many it sent.
func (n *Notifier) Sweep(ctx context.Context) (int, error) {
	open, err := n.ledger.Open(ctx, n.now().Add(-n.lease))
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, o := range open {
		log := logging.FromContext(ctx).With(zap.String("event_id", o.EventID))
		claim := Claim{Email: o.Claim.Email, ClaimedAt: n.now().UTC()}
		took, err := n.ledger.Retake(ctx, o.EventID, o.Version, claim)
		if err != nil || !took {
			continue // the next sweep looks again
		}
		log.Warn("sweep: sending the email of a claim whose sender did not finish", zap.Time("claimed_at", o.Claim.ClaimedAt))
		// On failure the claim stays, retaken: the sweep after the lease tries again.
		if n.send(ctx, log, o.EventID, claim) == nil {
			sent++
		}
	}
	return sent, nil
}

// HandleDeadLetter tries a message the dead-letter topic delivered once
// more, and keeps it for replay if that fails too. The sidecar dead-letters
// an event after its few quick retries however they failed, including when
// this app was down (a crash, a restart): the dead letter then arrives once
// the app is back, and is simply handled. (One copy of the email still:
// the claim decides.)
func (n *Notifier) HandleDeadLetter(ctx context.Context, e Event) Outcome {
	if e.Topic != "" && n.Handle(ctx, e.Topic, e) == Handled {
		logging.FromContext(ctx).Warn("dead letter handled on arrival: its deliveries had failed, this one did not",
			zap.String("event_id", e.ID), zap.String("topic", e.Topic))
		return Handled
	}
	deliveries, _ := n.ledger.Deliveries(ctx, e.ID)
	d := DeadLetter{ID: e.ID, Topic: e.Topic, Type: e.Type, Data: e.Data, Deliveries: deliveries, ArrivedAt: n.now().UTC()}
	if err := n.dead.Add(ctx, d); err != nil {
		logging.FromContext(ctx).Warn("dead letter not stored; will retry", zap.String("event_id", e.ID), zap.Error(err))
		return TryAgain
	}
	logging.FromContext(ctx).Warn("dead letter stored", zap.String("event_id", e.ID), zap.String("topic", e.Topic),
		zap.Int("deliveries", d.Deliveries))
	return Handled
}

// DeadLetters lists the dead letters, newest first.
func (n *Notifier) DeadLetters(ctx context.Context) ([]DeadLetter, error) { return n.dead.List(ctx) }

// Replay puts a dead letter back on its original topic.
func (n *Notifier) Replay(ctx context.Context, id string) (*DeadLetter, error) {
	d, err := n.dead.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := n.replay.Republish(ctx, Event{ID: d.ID, Type: d.Type, Topic: d.Topic, Data: d.Data}); err != nil {
		return nil, err
	}
	if err := n.dead.CountReplay(ctx, id); err != nil {
		return nil, err
	}
	return n.dead.Get(ctx, id)
}
