// Package domain holds the product service's entities, their invariants and
// its errors: products, stock with per-order holds, reservations, and the
// catalog search that runs over product summaries.
package domain

import (
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/daprshop/platform/invalid"
)

// Errors the HTTP port maps to statuses (see ports/errors.go).
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("changed concurrently; retry")
	// ErrHasReservations refuses to delete a product that open reservations hold.
	ErrHasReservations = errors.New("product has open reservations")
)

// Money is an amount in the currency's minor unit (cents), never a float.
type Money struct {
	Amount   int64
	Currency string
}

// Limits of a product's fields.
const (
	MaxNameLen        = 200
	MaxDescriptionLen = 2000
	MaxPrice          = 100_000_000 // 1,000,000.00 in minor units
	MaxStock          = 1_000_000
)

var (
	categoryPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// ProductFields are the fields a client sets.
type ProductFields struct {
	Name        string
	Description string
	Category    string
	Price       Money
}

// Product is a catalog entry. Its stock lives apart (Stock), because stock
// changes with every reservation and the catalog rarely does.
type Product struct {
	ID string
	ProductFields
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks the fields and normalises whitespace.
func (f *ProductFields) Validate() error {
	var v invalid.Error
	f.Name = strings.TrimSpace(f.Name)
	f.Description = strings.TrimSpace(f.Description)
	f.Category = strings.TrimSpace(f.Category)
	if n := utf8.RuneCountInString(f.Name); n == 0 || n > MaxNameLen {
		v.Add("name", "must be 1 to 200 characters long")
	}
	if utf8.RuneCountInString(f.Description) > MaxDescriptionLen {
		v.Add("description", "must be at most 2000 characters long")
	}
	if len(f.Category) > 50 || !categoryPattern.MatchString(f.Category) {
		v.Add("category", "must be a lower-case slug such as \"home-garden\" (at most 50 characters)")
	}
	if f.Price.Amount < 0 || f.Price.Amount > MaxPrice {
		v.Add("price.amount", "must be between 0 and 100000000 minor units")
	}
	if !currencyPattern.MatchString(f.Price.Currency) {
		v.Add("price.currency", "must be an ISO 4217 code such as EUR")
	}
	return v.OrNil()
}

// CheckStock validates a stock level set by an admin.
func CheckStock(n int64) error {
	if n < 0 || n > MaxStock {
		return invalid.New("stock", "must be between 0 and 1000000")
	}
	return nil
}

// NewProduct builds a valid product.
func NewProduct(id string, f ProductFields, now time.Time) (*Product, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	now = now.UTC()
	return &Product{ID: id, ProductFields: f, Version: 1, CreatedAt: now, UpdatedAt: now}, nil
}

// Replace sets new fields and records the change.
func (p *Product) Replace(f ProductFields, now time.Time) error {
	if err := f.Validate(); err != nil {
		return err
	}
	p.ProductFields = f
	p.Version++
	p.UpdatedAt = now.UTC()
	return nil
}

// Summary is what listings and search return and what the catalog index holds.
func (p *Product) Summary(inStock bool) Summary {
	return Summary{ID: p.ID, Name: p.Name, Description: p.Description, Category: p.Category,
		Price: p.Price, InStock: inStock, CreatedAt: p.CreatedAt}
}

// Seed is one product of a bulk load (demo data, tests) with its initial stock.
type Seed struct {
	Product *Product
	Stock   int64
}
