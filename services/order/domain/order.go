// Package domain holds the order: its lines and prices, its status and the
// transitions allowed between statuses, with their history.
package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/daprshop/platform/invalid"
	"github.com/daprshop/platform/orderline"
)

// Errors the HTTP port maps to statuses.
var (
	ErrNotFound  = errors.New("order not found")
	ErrForbidden = errors.New("not allowed")
	// ErrKeyReused refuses an Idempotency-Key reused with another request.
	ErrKeyReused = errors.New("this Idempotency-Key was used with another request")
	// ErrTransition refuses a status change the order's life does not allow.
	ErrTransition = errors.New("status change not allowed")
	// ErrMixedCurrencies refuses an order priced in more than one currency.
	ErrMixedCurrencies = errors.New("the order mixes currencies")
)

// Status is where an order is in its life.
type Status string

const (
	StatusPending   Status = "pending"   // placed; the checkout is running
	StatusReserved  Status = "reserved"  // priced, stock held
	StatusPaid      Status = "paid"      // charged, stock committed
	StatusShipped   Status = "shipped"   // on its way; no longer cancellable
	StatusDelivered Status = "delivered" // set by an admin
	StatusCancelled Status = "cancelled" // compensated: refunded and released
)

// transitions lists where each status may go.
var transitions = map[Status][]Status{
	StatusPending:  {StatusReserved, StatusCancelled},
	StatusReserved: {StatusPaid, StatusCancelled},
	StatusPaid:     {StatusShipped, StatusCancelled},
	StatusShipped:  {StatusDelivered},
}

// CanMove reports whether from may become to.
func CanMove(from, to Status) bool { return slices.Contains(transitions[from], to) }

// Money is an amount in the currency's minor unit.
type Money struct {
	Amount   int64
	Currency string
}

// Line is a quantity of one product, priced by the checkout.
type Line struct {
	ProductID string
	Name      string
	Quantity  int64
	UnitPrice *Money
}

// Transition is one entry of an order's history.
type Transition struct {
	Status Status
	At     time.Time
	Note   string
}

// Order is what a buyer asked for and where it stands.
type Order struct {
	ID            string
	UserID        string
	Email         string
	Lines         []Line
	Total         *Money
	PaymentMethod string
	PaymentID     string
	Status        Status
	// Reason says why an order was cancelled.
	Reason string
	// CancelRequested is set by a cancellation; the checkout acts on it at its next step.
	CancelRequested bool
	History         []Transition
	IdempotencyKey  string
	RequestHash     string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

var keyPattern = regexp.MustCompile(`^[\x21-\x7e]{1,100}$`)

// orderNamespace derives order IDs from (user, Idempotency-Key).
var orderNamespace = uuid.MustParse("6f1c2a34-4b0e-4d8e-9a53-0c4f3b7e21d5")

// IDFor is the order ID of a user's request with an Idempotency-Key: the
// same for every retry, so concurrent retries race for one record instead
// of creating several orders.
func IDFor(userID, key string) string {
	return uuid.NewSHA1(orderNamespace, []byte(userID+"\x00"+key)).String()
}

// NewOrder validates a request and builds a pending order.
func NewOrder(userID, email, key string, lines []Line, method string, now time.Time) (*Order, error) {
	var v invalid.Error
	if !keyPattern.MatchString(key) {
		v.Add("Idempotency-Key", "header must be 1 to 100 printable characters")
	}
	asked := make([]orderline.Line, len(lines))
	for i, l := range lines {
		asked[i] = orderline.Line{ProductID: l.ProductID, Quantity: l.Quantity}
	}
	merged := orderline.Merge(&v, asked)
	if method == "" || len(method) > 100 {
		v.Add("paymentMethod", "is required")
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	out := make([]Line, len(merged))
	for i, l := range merged {
		out[i] = Line{ProductID: l.ProductID, Quantity: l.Quantity}
	}
	now = now.UTC()
	o := &Order{ID: IDFor(userID, key), UserID: userID, Email: email, Lines: out, PaymentMethod: method,
		Status: StatusPending, IdempotencyKey: key, CreatedAt: now, UpdatedAt: now,
		History: []Transition{{Status: StatusPending, At: now}}}
	o.RequestHash = o.hash()
	return o, nil
}

// hash identifies what was asked for, to tell a retry from a reused key.
func (o *Order) hash() string {
	h := sha256.New()
	for _, l := range o.Lines {
		fmt.Fprintf(h, "%s\x00%d\x00", l.ProductID, l.Quantity)
	}
	h.Write([]byte(o.PaymentMethod))
	return hex.EncodeToString(h.Sum(nil))
}

// SameRequest reports whether q asks for what o was created from.
func (o *Order) SameRequest(q *Order) bool { return o.RequestHash == q.RequestHash }

// MoveTo changes the status along an allowed transition and records it.
// Moving to the status the order already has does nothing.
func (o *Order) MoveTo(to Status, at time.Time, note string) (bool, error) {
	if o.Status == to {
		return false, nil
	}
	if !CanMove(o.Status, to) {
		return false, fmt.Errorf("%w: %s to %s", ErrTransition, o.Status, to)
	}
	at = at.UTC()
	o.Status, o.UpdatedAt = to, at
	o.History = append(o.History, Transition{Status: to, At: at, Note: note})
	return true, nil
}

// Total adds up priced lines. Lines in more than one currency are
// ErrMixedCurrencies; a line without a price is an error of the caller.
func Total(lines []Line) (Money, error) {
	var total Money
	for _, l := range lines {
		if l.UnitPrice == nil {
			return Money{}, fmt.Errorf("line %s has no price", l.ProductID)
		}
		if total.Currency == "" {
			total.Currency = l.UnitPrice.Currency
		}
		if l.UnitPrice.Currency != total.Currency {
			return Money{}, fmt.Errorf("%w (%s and %s)", ErrMixedCurrencies, total.Currency, l.UnitPrice.Currency)
		}
		total.Amount += l.UnitPrice.Amount * l.Quantity
	}
	return total, nil
}

// Cancellable reports whether a cancellation can still be honoured.
func (o *Order) Cancellable() bool { return CanMove(o.Status, StatusCancelled) }
