// Package domain holds the payment service's entity: a charge for one order,
// its refunds, and the rules that keep money right (integer minor units, one
// charge per order, no refund beyond the charge, one refund per key).
package domain

import (
	"errors"
	"regexp"
	"time"

	"github.com/daprshop/platform/invalid"
	"github.com/daprshop/platform/paymentapi"
)

// Errors the HTTP port maps to statuses.
var (
	ErrNotFound = errors.New("payment not found")
	// ErrMismatch refuses a second charge for an order with another amount or method.
	ErrMismatch = errors.New("this order was already charged with another amount or payment method")
	// ErrVoided refuses a charge for an order whose payment was refunded
	// before any charge: the order was cancelled.
	ErrVoided = errors.New("this order's payment was voided: the order was cancelled before it was charged")
	// ErrNotCaptured refuses a refund of a payment whose charge has not
	// ended yet: it may still succeed.
	ErrNotCaptured = errors.New("the charge of this payment has not ended yet; it cannot be refunded now")
	// ErrOverRefund refuses refunds beyond what was charged.
	ErrOverRefund = errors.New("refunds would exceed the amount charged")
	// ErrRefundMismatch refuses a refund key reused with another amount.
	ErrRefundMismatch = errors.New("this refund key was used with another amount")
)

// Status of a payment.
type Status string

const (
	StatusPending   Status = "pending" // the provider has not answered for good yet
	StatusSucceeded Status = "succeeded"
	StatusDeclined  Status = "declined"
	// StatusVoided: a refund came before any charge (a cancelled order's
	// compensation overtook a charge still on its way). The record refuses
	// that late charge, so a cancelled order is never charged.
	StatusVoided Status = "voided"
)

// Void is the record a refund leaves for an order never charged.
func Void(orderID string, now time.Time) *Payment {
	now = now.UTC()
	return &Payment{ID: IDFor(orderID), OrderID: orderID, Status: StatusVoided, Reason: "refunded before any charge",
		CreatedAt: now, UpdatedAt: now}
}

// Money is an amount in the currency's minor unit.
type Money struct {
	Amount   int64
	Currency string
}

// Refund is money given back, once per key.
type Refund struct {
	Key    string
	Amount int64
	At     time.Time
}

// Payment is the charge for one order. Its ID is derived from the order ID,
// so one order can never have two charges.
type Payment struct {
	ID        string
	OrderID   string
	Email     string
	Amount    Money
	Method    string
	Status    Status
	Reason    string
	Attempts  int
	Refunds   []Refund
	Refunded  int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// IDFor is the payment ID of an order (the contract's rule).
func IDFor(orderID string) string { return paymentapi.PaymentID(orderID) }

var (
	idPattern       = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// NewPayment validates a charge request.
func NewPayment(orderID, email string, amount Money, method string, now time.Time) (*Payment, error) {
	var v invalid.Error
	if !idPattern.MatchString(orderID) {
		v.Add("orderId", "must be 1 to 100 letters, digits, '.', '_' or '-'")
	}
	if amount.Amount <= 0 || amount.Amount > 100_000_000 {
		v.Add("amount.amount", "must be between 1 and 100000000 minor units")
	}
	if !currencyPattern.MatchString(amount.Currency) {
		v.Add("amount.currency", "must be an ISO 4217 code such as EUR")
	}
	if method == "" || len(method) > 100 {
		v.Add("method", "is required")
	}
	if err := v.OrNil(); err != nil {
		return nil, err
	}
	now = now.UTC()
	return &Payment{ID: IDFor(orderID), OrderID: orderID, Email: email, Amount: amount, Method: method,
		Status: StatusPending, CreatedAt: now, UpdatedAt: now}, nil
}

// SameCharge reports whether a repeated request asks for the same charge.
func (p *Payment) SameCharge(q *Payment) bool {
	return p.OrderID == q.OrderID && p.Amount == q.Amount && p.Method == q.Method
}

// AddRefund refunds amount under key (0 = everything not yet refunded). It
// returns whether anything changed: a key already used with the same amount
// changes nothing.
func (p *Payment) AddRefund(key string, amount int64, now time.Time) (bool, error) {
	switch p.Status {
	case StatusDeclined, StatusVoided:
		// Nothing was taken, so nothing is owed: the refund is done as asked.
		// An error here would be a business outcome counted as a failure by
		// the payments circuit breaker, one buyer's card tripping it for all.
		return false, nil
	case StatusPending:
		return false, ErrNotCaptured
	}
	if amount == 0 {
		amount = p.Amount.Amount - p.Refunded
	}
	for _, r := range p.Refunds {
		if r.Key == key {
			if r.Amount != amount && amount != 0 {
				return false, ErrRefundMismatch
			}
			return false, nil
		}
	}
	if amount <= 0 || p.Refunded+amount > p.Amount.Amount {
		return false, ErrOverRefund
	}
	p.Refunds = append(p.Refunds, Refund{Key: key, Amount: amount, At: now.UTC()})
	p.Refunded += amount
	p.UpdatedAt = now.UTC()
	return true, nil
}
