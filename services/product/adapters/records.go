package adapters

import (
	"encoding/json"
	"time"

	"github.com/daprshop/product/domain"
)

// Records are the product service's data as stored. Their JSON names are
// the stored format (changing one needs a migration); the domain types
// carry none, so the domain can change shape without touching stored data.

type moneyRecord struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type productRecord struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Category    string      `json:"category"`
	Price       moneyRecord `json:"price"`
	Version     int64       `json:"version"`
	CreatedAt   time.Time   `json:"createdAt"`
	UpdatedAt   time.Time   `json:"updatedAt"`
}

func toProductRecord(p *domain.Product) *productRecord {
	return &productRecord{ID: p.ID, Name: p.Name, Description: p.Description, Category: p.Category,
		Price: moneyRecord(p.Price), Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func (r *productRecord) product() *domain.Product {
	return &domain.Product{ID: r.ID, ProductFields: domain.ProductFields{Name: r.Name, Description: r.Description,
		Category: r.Category, Price: domain.Money(r.Price)}, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// stockRecord has the domain's fields one for one, so the two convert.
type stockRecord struct {
	Available  int64            `json:"available"`
	Holds      map[string]int64 `json:"holds,omitempty"`
	Sold       int64            `json:"sold"`
	Returns    map[string]int64 `json:"returns,omitempty"`
	ReturnedAt map[string]int64 `json:"returnedAt,omitempty"`
	Version    int64            `json:"version"`
}

type summaryRecord struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Category    string      `json:"category"`
	Price       moneyRecord `json:"price"`
	InStock     bool        `json:"inStock"`
	CreatedAt   time.Time   `json:"createdAt"`
}

// MarshalJSON stores a shard as product ID -> summary record.
func (sh shard) MarshalJSON() ([]byte, error) {
	out := make(map[string]summaryRecord, len(sh))
	for id, s := range sh {
		out[id] = summaryRecord{ID: s.ID, Name: s.Name, Description: s.Description, Category: s.Category,
			Price: moneyRecord(s.Price), InStock: s.InStock, CreatedAt: s.CreatedAt}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a stored shard.
func (sh *shard) UnmarshalJSON(b []byte) error {
	var in map[string]summaryRecord
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*sh = make(shard, len(in))
	for id, r := range in {
		(*sh)[id] = domain.Summary{ID: r.ID, Name: r.Name, Description: r.Description, Category: r.Category,
			Price: domain.Money(r.Price), InStock: r.InStock, CreatedAt: r.CreatedAt}
	}
	return nil
}

type lineRecord struct {
	ProductID string       `json:"productId"`
	Quantity  int64        `json:"quantity"`
	Name      string       `json:"name,omitempty"`
	UnitPrice *moneyRecord `json:"unitPrice,omitempty"`
}

type reservationRecord struct {
	OrderID   string       `json:"orderId"`
	Lines     []lineRecord `json:"lines"`
	Status    string       `json:"status"`
	Reason    string       `json:"reason,omitempty"`
	ExpiresAt time.Time    `json:"expiresAt"`
	CreatedAt time.Time    `json:"createdAt"`
	UpdatedAt time.Time    `json:"updatedAt"`
}

func toReservationRecord(r *domain.Reservation) *reservationRecord {
	out := &reservationRecord{OrderID: r.OrderID, Lines: make([]lineRecord, len(r.Lines)), Status: string(r.Status),
		Reason: r.Reason, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for i, l := range r.Lines {
		out.Lines[i] = lineRecord{ProductID: l.ProductID, Quantity: l.Quantity, Name: l.Name}
		if l.UnitPrice != nil {
			m := moneyRecord(*l.UnitPrice)
			out.Lines[i].UnitPrice = &m
		}
	}
	return out
}

func (r *reservationRecord) reservation() *domain.Reservation {
	out := &domain.Reservation{OrderID: r.OrderID, Lines: make([]domain.Line, len(r.Lines)), Status: domain.ReservationStatus(r.Status),
		Reason: r.Reason, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for i, l := range r.Lines {
		out.Lines[i] = domain.Line{ProductID: l.ProductID, Quantity: l.Quantity, Name: l.Name}
		if l.UnitPrice != nil {
			m := domain.Money(*l.UnitPrice)
			out.Lines[i].UnitPrice = &m
		}
	}
	return out
}
