package ports

import (
	"time"

	"github.com/daprshop/product/domain"
)

// The API's view of listings and reservations: their JSON names are the
// public contract (contracts/), kept here and not on the domain types.

type priceJSON struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func price(m domain.Money) priceJSON { return priceJSON{Amount: m.Amount, Currency: m.Currency} }

type summaryResponse struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Category    string    `json:"category"`
	Price       priceJSON `json:"price"`
	InStock     bool      `json:"inStock"`
	CreatedAt   time.Time `json:"createdAt"`
}

type pageResponse struct {
	Items      []summaryResponse `json:"items"`
	NextCursor string            `json:"nextCursor,omitempty"`
	Total      int               `json:"total"`
}

func toPage(p domain.Page) pageResponse {
	out := pageResponse{Items: make([]summaryResponse, len(p.Items)), NextCursor: p.NextCursor, Total: p.Total}
	for i, s := range p.Items {
		out.Items[i] = summaryResponse{ID: s.ID, Name: s.Name, Description: s.Description, Category: s.Category,
			Price: price(s.Price), InStock: s.InStock, CreatedAt: s.CreatedAt}
	}
	return out
}

type reservedLine struct {
	ProductID string     `json:"productId"`
	Quantity  int64      `json:"quantity"`
	Name      string     `json:"name,omitempty"`
	UnitPrice *priceJSON `json:"unitPrice,omitempty"`
}

type reservationResponse struct {
	OrderID   string         `json:"orderId"`
	Lines     []reservedLine `json:"lines"`
	Status    string         `json:"status"`
	Reason    string         `json:"reason,omitempty"`
	ExpiresAt time.Time      `json:"expiresAt"`
	CreatedAt time.Time      `json:"createdAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
}

func toReservation(r *domain.Reservation) reservationResponse {
	out := reservationResponse{OrderID: r.OrderID, Lines: make([]reservedLine, len(r.Lines)), Status: string(r.Status),
		Reason: r.Reason, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for i, l := range r.Lines {
		out.Lines[i] = reservedLine{ProductID: l.ProductID, Quantity: l.Quantity, Name: l.Name}
		if l.UnitPrice != nil {
			p := price(*l.UnitPrice)
			out.Lines[i].UnitPrice = &p
		}
	}
	return out
}
