package events

import "time"

// Topics of the order and payment services. Payloads are JSON; see contracts/events.md.
const (
	TopicOrderCreated   = "order.created"
	TopicOrderPaid      = "order.paid"
	TopicOrderShipped   = "order.shipped"
	TopicOrderCancelled = "order.cancelled"

	TopicPaymentCompleted = "payment.completed"
	TopicPaymentFailed    = "payment.failed"
	TopicPaymentRefunded  = "payment.refunded"
)

// OrderLine is one priced line of an order.
type OrderLine struct {
	ProductID string `json:"productId"`
	Name      string `json:"name,omitempty"`
	Quantity  int64  `json:"quantity"`
	UnitPrice Money  `json:"unitPrice"`
}

// OrderEvent is the payload of every order.* event. Email is the buyer's,
// so a notifier needs no lookup; Reason is set on order.cancelled.
type OrderEvent struct {
	OrderID string      `json:"orderId"`
	UserID  string      `json:"userId"`
	Email   string      `json:"email"`
	Status  string      `json:"status"`
	Lines   []OrderLine `json:"lines,omitempty"`
	Total   Money       `json:"total"`
	Reason  string      `json:"reason,omitempty"`
	At      time.Time   `json:"at"`
}

// PaymentEvent is the payload of every payment.* event. Refunded is the
// total refunded so far; Reason is set on payment.failed.
type PaymentEvent struct {
	PaymentID string    `json:"paymentId"`
	OrderID   string    `json:"orderId"`
	Email     string    `json:"email,omitempty"`
	Amount    Money     `json:"amount"`
	Refunded  Money     `json:"refunded"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
}
