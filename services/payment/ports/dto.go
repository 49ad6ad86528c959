package ports

import (
	"time"

	"github.com/daprshop/payment/domain"
)

// The API's view of a payment: its JSON names are the public contract,
// kept here and not on the domain types.

type refundResponse struct {
	Key    string    `json:"key"`
	Amount int64     `json:"amount"`
	At     time.Time `json:"at"`
}

type paymentResponse struct {
	ID        string           `json:"id"`
	OrderID   string           `json:"orderId"`
	Email     string           `json:"email,omitempty"`
	Amount    moneyJSON        `json:"amount"`
	Method    string           `json:"method"`
	Status    string           `json:"status"`
	Reason    string           `json:"reason,omitempty"`
	Attempts  int              `json:"attempts"`
	Refunds   []refundResponse `json:"refunds,omitempty"`
	Refunded  int64            `json:"refunded"`
	CreatedAt time.Time        `json:"createdAt"`
	UpdatedAt time.Time        `json:"updatedAt"`
}

func toResponse(p *domain.Payment) paymentResponse {
	out := paymentResponse{ID: p.ID, OrderID: p.OrderID, Email: p.Email, Amount: moneyJSON(p.Amount), Method: p.Method,
		Status: string(p.Status), Reason: p.Reason, Attempts: p.Attempts, Refunded: p.Refunded,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	for _, r := range p.Refunds {
		out.Refunds = append(out.Refunds, refundResponse(r))
	}
	return out
}
