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

// Ledger remembers which events were handled, and counts deliveries.
type Ledger interface {
	Seen(ctx context.Context, eventID string) (bool, error)
	MarkSeen(ctx context.Context, eventID string) error
	// CountDelivery records one more delivery of eventID and returns the count.
	CountDelivery(ctx context.Context, eventID string) (int, error)
	// Deliveries returns how often eventID was delivered.
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
	now    func() time.Time
}

// New returns the notifier.
func New(s Sender, l Ledger, d DeadLetters, r Republisher) *Notifier {
	return &Notifier{sender: s, ledger: l, dead: d, replay: r, now: time.Now}
}

// Handle sends the email for one delivered event, once per event ID.
func (n *Notifier) Handle(ctx context.Context, topic string, e Event) Outcome {
	log := logging.FromContext(ctx).With(zap.String("event_id", e.ID), zap.String("topic", topic))
	if _, err := n.ledger.CountDelivery(ctx, e.ID); err != nil {
		log.Warn("delivery not counted", zap.Error(err))
	}
	seen, err := n.ledger.Seen(ctx, e.ID)
	if err != nil {
		log.Warn("deduplication unavailable; retry later", zap.Error(err))
		return TryAgain
	}
	if seen {
		log.Info("duplicate delivery dropped")
		return Handled
	}
	email, err := domain.Render(topic, e.Data)
	if err != nil {
		log.Error("event cannot become an email; to the dead-letter topic", zap.Error(err))
		return Undeliverable
	}
	if err := n.sender.Send(ctx, e.ID, email); err != nil {
		log.Warn("email not sent; will retry", zap.Error(err))
		return TryAgain
	}
	if err := n.ledger.MarkSeen(ctx, e.ID); err != nil {
		// The email went; a redelivery resends it (a file is replaced).
		log.Warn("sent but not recorded", zap.Error(err))
		return TryAgain
	}
	log.Info("email sent", zap.String("to", email.To), zap.String("subject", email.Subject))
	return Handled
}

// HandleDeadLetter keeps a message the dead-letter topic delivered.
func (n *Notifier) HandleDeadLetter(ctx context.Context, e Event) Outcome {
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
