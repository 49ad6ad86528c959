package events

import "time"

// Topics of the product service. Payloads are JSON; see contracts/events.md.
const (
	TopicProductCreated     = "product.created"
	TopicProductUpdated     = "product.updated"
	TopicProductDeleted     = "product.deleted"
	TopicInventoryReserved  = "inventory.reserved"
	TopicInventoryReleased  = "inventory.released"
	TopicInventoryCommitted = "inventory.committed"
	TopicInventoryLowStock  = "inventory.low-stock"
)

// Money is an amount in minor units of a currency.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// ProductChanged is the payload of product.created and product.updated.
type ProductChanged struct {
	ProductID   string    `json:"productId"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Category    string    `json:"category"`
	Price       Money     `json:"price"`
	Available   int64     `json:"available"`
	Version     int64     `json:"version"`
	At          time.Time `json:"at"`
}

// ProductDeleted is the payload of product.deleted.
type ProductDeleted struct {
	ProductID string    `json:"productId"`
	At        time.Time `json:"at"`
}

// ReservedLine is one product's quantity in a reservation.
type ReservedLine struct {
	ProductID string `json:"productId"`
	Quantity  int64  `json:"quantity"`
}

// InventoryReservation is the payload of inventory.reserved, .released and
// .committed. Reason says why stock was released: "released" (the order
// service asked), "expired", or "returned" (a committed order's stock put
// back).
type InventoryReservation struct {
	OrderID   string         `json:"orderId"`
	Lines     []ReservedLine `json:"lines"`
	Reason    string         `json:"reason,omitempty"`
	ExpiresAt time.Time      `json:"expiresAt,omitzero"`
	At        time.Time      `json:"at"`
}

// LowStock is published when a product's available stock falls below the
// configured threshold.
type LowStock struct {
	ProductID string    `json:"productId"`
	Available int64     `json:"available"`
	Threshold int64     `json:"threshold"`
	At        time.Time `json:"at"`
}
