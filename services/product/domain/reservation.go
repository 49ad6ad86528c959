package domain

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/daprshop/platform/invalid"
	"github.com/daprshop/platform/orderline"
)

// ReservationStatus is where a reservation is in its life.
//
//	pending ──► reserved ──► committing ──► committed ──► returning ──► returned
//	   │            │
//	   │            ├──► releasing ──► released
//	   │            └──► expiring  ──► expired
//	   └──► rejected (not enough stock, unknown product)
//
// returned: the order was paid and committed, then cancelled before
// shipping; its units are back on sale.
//
// A release that arrives before any reservation leaves a released tombstone,
// so a reservation arriving late for a cancelled order is refused. The -ing
// states are claimed by compare-and-swap before any stock moves, so a commit
// and an expiry can never both act on one reservation.
type ReservationStatus string

const (
	StatusPending    ReservationStatus = "pending"
	StatusReserved   ReservationStatus = "reserved"
	StatusRejected   ReservationStatus = "rejected"
	StatusCommitting ReservationStatus = "committing"
	StatusCommitted  ReservationStatus = "committed"
	StatusReleasing  ReservationStatus = "releasing"
	StatusReleased   ReservationStatus = "released"
	StatusExpiring   ReservationStatus = "expiring"
	StatusExpired    ReservationStatus = "expired"
	StatusReturning  ReservationStatus = "returning"
	StatusReturned   ReservationStatus = "returned"
)

// Errors of the reservation life cycle.
var (
	// ErrReservationClosed refuses a commit of a released, expired or rejected reservation.
	ErrReservationClosed = errors.New("reservation is no longer open")
	// ErrReservationBusy means another request is moving the reservation; retry.
	ErrReservationBusy = errors.New("reservation is being processed; retry")
	// ErrReservationMismatch refuses a repeat of an order ID with other lines.
	ErrReservationMismatch = errors.New("order ID already used with other lines")
)

// Line is a quantity of one product. A reservation prices its lines when
// it is made: the name and unit price the checkout charges are the
// catalog's at that moment, and a repeat of the request gets the same ones.
type Line struct {
	ProductID string
	Quantity  int64
	Name      string
	UnitPrice *Money
}

// orderIDPattern keeps order IDs usable in job names and keys.
var orderIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

// Reservation holds stock for one order, all lines or none.
type Reservation struct {
	OrderID   string
	Lines     []Line
	Status    ReservationStatus
	Reason    string
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NormalizeLines validates lines and merges repeats of a product, sorted by
// product ID so every reservation locks stock in the same order.
func NormalizeLines(orderID string, lines []Line) ([]Line, error) {
	var v invalid.Error
	if !orderIDPattern.MatchString(orderID) {
		v.Add("orderId", "must be 1 to 100 letters, digits, '.', '_' or '-'")
	}
	asked := make([]orderline.Line, len(lines))
	for i, l := range lines {
		asked[i] = orderline.Line{ProductID: l.ProductID, Quantity: l.Quantity}
	}
	merged := orderline.Merge(&v, asked)
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	out := make([]Line, len(merged))
	for i, l := range merged {
		out[i] = Line{ProductID: l.ProductID, Quantity: l.Quantity}
	}
	return out, nil
}

// SameLines reports whether a repeat asks for what the first request asked.
func (r *Reservation) SameLines(lines []Line) bool {
	return slices.EqualFunc(r.Lines, lines, func(a, b Line) bool {
		return a.ProductID == b.ProductID && a.Quantity == b.Quantity
	})
}

// Price sets each line's name and unit price from the catalog's products;
// it answers the ID of a product the catalog does not have, or "".
func (r *Reservation) Price(products map[string]*Product) (missing string) {
	for i, l := range r.Lines {
		p, ok := products[l.ProductID]
		if !ok {
			return l.ProductID
		}
		price := p.Price
		r.Lines[i].Name, r.Lines[i].UnitPrice = p.Name, &price
	}
	return ""
}

// next lists the moves of a reservation's life (the diagram above).
var next = map[ReservationStatus][]ReservationStatus{
	StatusPending:    {StatusReserved, StatusRejected, StatusReleasing, StatusExpiring},
	StatusReserved:   {StatusCommitting, StatusReleasing, StatusExpiring},
	StatusCommitting: {StatusCommitted},
	StatusCommitted:  {StatusReturning},
	StatusReturning:  {StatusReturned},
	StatusReleasing:  {StatusReleased},
	StatusExpiring:   {StatusExpired},
}

// Advance moves the reservation from one status to the next, if it is at
// from and its life allows the move; it reports whether it moved. Each
// step of an operation is a compare-and-swap of this kind, so two
// operations never both act on one reservation.
func (r *Reservation) Advance(from, to ReservationStatus, at time.Time) bool {
	if r.Status != from || !slices.Contains(next[from], to) {
		return false
	}
	r.Status, r.UpdatedAt = to, at.UTC()
	return true
}

// Reject ends a pending reservation that could not hold its stock.
func (r *Reservation) Reject(reason string, at time.Time) bool {
	if !r.Advance(StatusPending, StatusRejected, at) {
		return false
	}
	r.Reason = reason
	return true
}

// ClaimCommit starts a commit: reserved becomes committing. A commit
// already started or done is resumed (nil); a pending reservation is busy;
// any other is closed.
func (r *Reservation) ClaimCommit(at time.Time) error {
	switch r.Status {
	case StatusReserved:
		r.Advance(StatusReserved, StatusCommitting, at)
	case StatusCommitting, StatusCommitted:
	case StatusPending:
		return ErrReservationBusy
	default:
		return fmt.Errorf("%w: it is %s", ErrReservationClosed, r.Status)
	}
	return nil
}

// ClaimClose starts a release or an expiry (claim is StatusReleasing or
// StatusExpiring) of an open reservation; one already claimed is resumed.
// A reservation being committed is busy (retry: the release then returns
// the sold units); a committed one is closed to this; one already released,
// expired or rejected is left as it is.
func (r *Reservation) ClaimClose(claim ReservationStatus, at time.Time) error {
	switch {
	case r.Open():
		r.Advance(r.Status, claim, at)
	case r.Status == StatusCommitting:
		return ErrReservationBusy
	case r.Status == StatusCommitted || r.Status == StatusReturning:
		return fmt.Errorf("%w: it is %s", ErrReservationClosed, r.Status)
	}
	return nil
}

// Open reports whether stock is still held (or being held) for the order.
func (r *Reservation) Open() bool {
	return r.Status == StatusPending || r.Status == StatusReserved
}
