// Package adapters implements the notifier's interfaces on Dapr: an output
// binding for email, a state store for the ledger and the dead letters,
// pub/sub for replays.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/daprshop/notification/app"
	"github.com/daprshop/notification/domain"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/statestore"
)

// Email formats of the binding.
const (
	// FormatFile: the whole message (headers and body) is the data, named by
	// fileName; for bindings.localstorage (the local outbox folder).
	FormatFile = "file"
	// FormatSMTP: the body is the data, with emailTo, emailFrom and subject
	// as metadata; for bindings.smtp.
	FormatSMTP = "smtp"
	// FormatAuto: the format of the binding's type, asked of the sidecar
	// (its metadata API) before the first email, so that swapping
	// components/email.yaml for the SMTP profile needs no other change.
	FormatAuto = "auto"
)

// formatOf maps binding component types to the email format they take.
var formatOf = map[string]string{"bindings.localstorage": FormatFile, "bindings.smtp": FormatSMTP}

// FailingDomain is a test domain: mail to it fails as a mail server's
// temporary refusal (451) would, every time, so retries and dead letters
// can be seen working (see README, "Notifications").
const FailingDomain = "fail.invalid"

type binder interface {
	InvokeOutputBinding(ctx context.Context, in *dapr.InvokeBindingRequest) error
	GetMetadata(ctx context.Context) (*dapr.GetMetadataResponse, error)
}

// BindingSender sends email through a Dapr output binding.
type BindingSender struct {
	client  binder
	binding string
	from    string
	mu      sync.Mutex
	format  string
}

// NewBindingSender sends through the binding named binding in format, from from.
func NewBindingSender(client binder, binding, format, from string) *BindingSender {
	return &BindingSender{client: client, binding: binding, format: format, from: from}
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9._@-]+`)

// Send delivers e.
func (s *BindingSender) Send(ctx context.Context, key string, e domain.Email) error {
	if strings.HasSuffix(e.To, "@"+FailingDomain) {
		return errors.New("451 4.3.0 temporary failure (test domain " + FailingDomain + ")")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	format, err := s.resolveFormat(ctx)
	if err != nil {
		return err
	}
	req := &dapr.InvokeBindingRequest{Name: s.binding, Operation: "create"}
	switch format {
	case FormatSMTP:
		req.Data = []byte(e.Body)
		req.Metadata = map[string]string{"emailTo": e.To, "emailFrom": s.from, "subject": e.Subject}
	default:
		req.Data = []byte(e.Message(s.from))
		// One file per event: a redelivery rewrites it instead of adding one.
		req.Metadata = map[string]string{"fileName": unsafe.ReplaceAllString(e.To+"__"+key, "_") + ".eml"}
	}
	if err := s.client.InvokeOutputBinding(ctx, req); err != nil {
		return fmt.Errorf("binding %s: %w", s.binding, err)
	}
	return nil
}

// resolveFormat returns the configured format, or for FormatAuto the one of
// the binding's component type (asked once; a failure is retried later).
func (s *BindingSender) resolveFormat(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.format != FormatAuto {
		return s.format, nil
	}
	md, err := s.client.GetMetadata(ctx)
	if err != nil {
		return "", fmt.Errorf("ask the sidecar for binding %s's type: %w", s.binding, err)
	}
	for _, c := range md.RegisteredComponents {
		if c.Name != s.binding {
			continue
		}
		f, ok := formatOf[c.Type]
		if !ok {
			return "", fmt.Errorf("binding %s is a %s: set EMAIL_FORMAT to %s or %s", s.binding, c.Type, FormatFile, FormatSMTP)
		}
		s.format = f
		return f, nil
	}
	return "", fmt.Errorf("the sidecar has no binding %s", s.binding)
}

// StateLedger keeps seen|<id> and deliveries|<id> in a state store.
type StateLedger struct{ store *statestore.Store }

// NewStateLedger uses store.
func NewStateLedger(store *statestore.Store) *StateLedger { return &StateLedger{store: store} }

var retry = statestore.Retry{Attempts: 20, MaxBackoff: 10 * time.Millisecond}

// Seen reports whether eventID was handled.
func (l *StateLedger) Seen(ctx context.Context, id string) (bool, error) {
	var at time.Time
	found, _, err := l.store.Get(ctx, "seen|"+id, &at)
	return found, err
}

// MarkSeen records eventID as handled.
func (l *StateLedger) MarkSeen(ctx context.Context, id string) error {
	return l.store.Put(ctx, map[string]any{"seen|" + id: time.Now().UTC()})
}

// CountDelivery adds one delivery of eventID and returns the count.
func (l *StateLedger) CountDelivery(ctx context.Context, id string) (int, error) {
	return statestore.Update(ctx, l.store, "deliveries|"+id, retry, func(n *int, _ bool) (bool, error) {
		*n++
		return true, nil
	})
}

// Deliveries returns how often eventID was delivered.
func (l *StateLedger) Deliveries(ctx context.Context, id string) (int, error) {
	var n int
	_, _, err := l.store.Get(ctx, "deliveries|"+id, &n)
	return n, err
}

// StateDeadLetters keeps deadletter|<id> and the list of IDs under deadletters.
type StateDeadLetters struct{ store *statestore.Store }

// NewStateDeadLetters uses store.
func NewStateDeadLetters(store *statestore.Store) *StateDeadLetters {
	return &StateDeadLetters{store: store}
}

// Add stores d, or refreshes it when the same event died again.
func (s *StateDeadLetters) Add(ctx context.Context, d app.DeadLetter) error {
	_, err := statestore.Update(ctx, s.store, "deadletter|"+d.ID, retry, func(cur *app.DeadLetter, found bool) (bool, error) {
		if found {
			d.Replays = cur.Replays
		}
		*cur = d
		return true, nil
	})
	if err != nil {
		return err
	}
	_, err = statestore.Update(ctx, s.store, "deadletters", retry, func(ids *[]string, _ bool) (bool, error) {
		if slices.Contains(*ids, d.ID) {
			return false, nil
		}
		*ids = append([]string{d.ID}, *ids...)
		return true, nil
	})
	return err
}

// List returns every dead letter, newest first.
func (s *StateDeadLetters) List(ctx context.Context) ([]app.DeadLetter, error) {
	var ids []string
	if _, _, err := s.store.Get(ctx, "deadletters", &ids); err != nil {
		return nil, err
	}
	out := make([]app.DeadLetter, 0, len(ids))
	for _, id := range ids {
		d, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, nil
}

// Get returns one dead letter.
func (s *StateDeadLetters) Get(ctx context.Context, id string) (*app.DeadLetter, error) {
	var d app.DeadLetter
	found, _, err := s.store.Get(ctx, "deadletter|"+id, &d)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, app.ErrNotFound
	}
	return &d, nil
}

// CountReplay records one replay of a dead letter.
func (s *StateDeadLetters) CountReplay(ctx context.Context, id string) error {
	_, err := statestore.Update(ctx, s.store, "deadletter|"+id, retry, func(d *app.DeadLetter, found bool) (bool, error) {
		if !found {
			return false, app.ErrNotFound
		}
		d.Replays++
		return true, nil
	})
	return err
}

// Republisher puts events back on their topics under their own IDs.
type Republisher struct{ pub *events.Publisher }

// NewRepublisher publishes with pub.
func NewRepublisher(pub *events.Publisher) *Republisher { return &Republisher{pub: pub} }

// Republish publishes e to its topic again.
func (r *Republisher) Republish(ctx context.Context, e app.Event) error {
	return r.pub.Publish(ctx, events.Event{ID: e.ID, Topic: e.Topic, Data: e.Data})
}
