package ports

import (
	"time"

	"github.com/daprshop/order/app"
	"github.com/daprshop/order/domain"
)

// The API's view of an order: its JSON names are the public contract, kept
// here and not on the domain types, so the domain can change shape without
// changing the API (and fields such as the idempotency key stay private).

type moneyResponse struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type lineResponse struct {
	ProductID string         `json:"productId"`
	Name      string         `json:"name,omitempty"`
	Quantity  int64          `json:"quantity"`
	UnitPrice *moneyResponse `json:"unitPrice,omitempty"`
}

type transitionResponse struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Note   string    `json:"note,omitempty"`
}

type orderResponse struct {
	ID              string               `json:"id"`
	UserID          string               `json:"userId"`
	Email           string               `json:"email,omitempty"`
	Lines           []lineResponse       `json:"lines"`
	Total           *moneyResponse       `json:"total,omitempty"`
	PaymentMethod   string               `json:"paymentMethod"`
	PaymentID       string               `json:"paymentId,omitempty"`
	Status          string               `json:"status"`
	Reason          string               `json:"reason,omitempty"`
	CancelRequested bool                 `json:"cancelRequested,omitempty"`
	History         []transitionResponse `json:"history"`
	CreatedAt       time.Time            `json:"createdAt"`
	UpdatedAt       time.Time            `json:"updatedAt"`
}

type pageResponse struct {
	Items      []orderResponse `json:"items"`
	NextCursor string          `json:"nextCursor,omitempty"`
	Total      int             `json:"total"`
}

func money(m *domain.Money) *moneyResponse {
	if m == nil {
		return nil
	}
	return &moneyResponse{Amount: m.Amount, Currency: m.Currency}
}

func toResponse(o *domain.Order) orderResponse {
	out := orderResponse{ID: o.ID, UserID: o.UserID, Email: o.Email, Total: money(o.Total), PaymentMethod: o.PaymentMethod,
		PaymentID: o.PaymentID, Status: string(o.Status), Reason: o.Reason, CancelRequested: o.CancelRequested,
		Lines: make([]lineResponse, len(o.Lines)), History: make([]transitionResponse, len(o.History)),
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
	for i, l := range o.Lines {
		out.Lines[i] = lineResponse{ProductID: l.ProductID, Name: l.Name, Quantity: l.Quantity, UnitPrice: money(l.UnitPrice)}
	}
	for i, t := range o.History {
		out.History[i] = transitionResponse{Status: string(t.Status), At: t.At, Note: t.Note}
	}
	return out
}

func toPage(p app.Page) pageResponse {
	out := pageResponse{Items: make([]orderResponse, len(p.Items)), NextCursor: p.NextCursor, Total: p.Total}
	for i, o := range p.Items {
		out.Items[i] = toResponse(o)
	}
	return out
}
