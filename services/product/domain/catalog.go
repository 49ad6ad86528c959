package domain

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/daprshop/platform/invalid"
)

// Summary is a product as listings show it.
type Summary struct {
	ID          string
	Name        string
	Description string
	Category    string
	Price       Money
	InStock     bool
	CreatedAt   time.Time
}

// Sort orders of a listing.
const (
	SortName      = "name"
	SortPriceAsc  = "price"
	SortPriceDesc = "-price"
	SortNewest    = "newest"
)

// Paging limits.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Query is a listing request: filters, search, order and a page.
type Query struct {
	Text     string // every word must appear in the name or the description
	Category string
	MinPrice *int64
	MaxPrice *int64
	Currency string
	InStock  bool
	Sort     string
	Limit    int
	Cursor   string // from the previous page's NextCursor
}

// Page is one page of results.
type Page struct {
	Items []Summary
	// NextCursor fetches the next page; empty on the last one.
	NextCursor string
	// Total counts every match of the filters, across pages.
	Total int
}

// ErrBadCursor refuses a cursor this service did not issue, or issued for another sort.
var ErrBadCursor = errors.New("invalid cursor")

// cursor is the position after the last item of a page: its sort key and
// ID. Keyset paging skips and repeats nothing when items are added or
// removed between pages, unlike an offset.
type cursor struct {
	Sort  string    `json:"s"`
	Name  string    `json:"n,omitempty"`
	Price int64     `json:"p,omitempty"`
	Time  time.Time `json:"t,omitzero"`
	ID    string    `json:"i"`
}

// Normalize checks q and fills defaults.
func (q *Query) Normalize() error {
	var v invalid.Error
	switch q.Sort {
	case "":
		q.Sort = SortName
	case SortName, SortPriceAsc, SortPriceDesc, SortNewest:
	default:
		v.Add("sort", "must be one of: name, price, -price, newest")
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit < 1 || q.Limit > MaxLimit {
		v.Add("limit", "must be between 1 and 100")
	}
	if q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice {
		v.Add("minPrice", "must not exceed maxPrice")
	}
	if len(q.Text) > 200 {
		v.Add("q", "must be at most 200 characters long")
	}
	return v.OrNil()
}

// entry is a summary with its lower-cased text, computed once.
type entry struct {
	Summary
	name string // lower-cased name, the sort key
	text string // lower-cased name and description, searched
}

// Catalog is an immutable snapshot of every product summary, kept sorted in
// each order a listing can ask for, so a query scans once and sorts nothing.
type Catalog struct {
	sorted map[string][]entry
	byID   map[string]Summary
}

// NewCatalog indexes summaries.
func NewCatalog(summaries []Summary) *Catalog {
	base := make([]entry, len(summaries))
	byID := make(map[string]Summary, len(summaries))
	for i, s := range summaries {
		name := strings.ToLower(s.Name)
		base[i] = entry{Summary: s, name: name, text: name + "\n" + strings.ToLower(s.Description)}
		byID[s.ID] = s
	}
	c := &Catalog{sorted: map[string][]entry{}, byID: byID}
	for _, order := range []string{SortName, SortPriceAsc, SortPriceDesc, SortNewest} {
		sorted := slices.Clone(base)
		slices.SortFunc(sorted, comparator(order))
		c.sorted[order] = sorted
	}
	return c
}

// Len is the number of products.
func (c *Catalog) Len() int { return len(c.byID) }

// IDs lists every product's ID, in no order.
func (c *Catalog) IDs() []string {
	out := make([]string, 0, len(c.byID))
	for id := range c.byID {
		out = append(out, id)
	}
	return out
}

// Get returns one summary.
func (c *Catalog) Get(id string) (Summary, bool) {
	s, ok := c.byID[id]
	return s, ok
}

// All returns every summary, in name order.
func (c *Catalog) All() []Summary {
	out := make([]Summary, len(c.sorted[SortName]))
	for i, e := range c.sorted[SortName] {
		out[i] = e.Summary
	}
	return out
}

// Search filters and pages the catalog; q must be normalized.
func (c *Catalog) Search(q Query) (Page, error) {
	sorted := c.sorted[q.Sort]
	if sorted == nil {
		return Page{}, fmt.Errorf("unknown sort %q", q.Sort)
	}
	start := 0
	if q.Cursor != "" {
		after, err := decodeCursor(q.Cursor)
		if err != nil || after.Sort != q.Sort {
			return Page{}, ErrBadCursor
		}
		pivot := entry{Summary: Summary{ID: after.ID, Price: Money{Amount: after.Price}, CreatedAt: after.Time}, name: after.Name}
		// The first entry strictly after the cursor's position.
		start, _ = slices.BinarySearchFunc(sorted, pivot, comparator(q.Sort))
		if start < len(sorted) && sorted[start].ID == after.ID {
			start++
		}
	}
	words := strings.Fields(strings.ToLower(q.Text))
	page := Page{Items: make([]Summary, 0, q.Limit)}
	var last *entry
	for i := range sorted {
		e := &sorted[i]
		if !q.matches(e, words) {
			continue
		}
		page.Total++
		if i < start {
			continue
		}
		if len(page.Items) < q.Limit {
			page.Items = append(page.Items, e.Summary)
			last = e
		} else if page.NextCursor == "" {
			page.NextCursor = encodeCursor(cursor{Sort: q.Sort, Name: last.name, Price: last.Price.Amount, Time: last.CreatedAt, ID: last.ID})
		}
	}
	return page, nil
}

func (q *Query) matches(e *entry, words []string) bool {
	if q.Category != "" && e.Category != q.Category ||
		q.Currency != "" && e.Price.Currency != q.Currency ||
		q.MinPrice != nil && e.Price.Amount < *q.MinPrice ||
		q.MaxPrice != nil && e.Price.Amount > *q.MaxPrice ||
		q.InStock && !e.InStock {
		return false
	}
	for _, w := range words {
		if !strings.Contains(e.text, w) {
			return false
		}
	}
	return true
}

// comparator orders by the sort key, then by ID, so the order is total and
// a cursor names one exact position.
func comparator(sort string) func(a, b entry) int {
	byID := func(a, b entry) int { return strings.Compare(a.ID, b.ID) }
	switch sort {
	case SortPriceAsc:
		return func(a, b entry) int { return cmp.Or(cmp.Compare(a.Price.Amount, b.Price.Amount), byID(a, b)) }
	case SortPriceDesc:
		return func(a, b entry) int { return cmp.Or(cmp.Compare(b.Price.Amount, a.Price.Amount), byID(a, b)) }
	case SortNewest:
		return func(a, b entry) int { return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), byID(a, b)) }
	default:
		return func(a, b entry) int { return cmp.Or(strings.Compare(a.name, b.name), byID(a, b)) }
	}
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, err
	}
	err = json.Unmarshal(b, &c)
	return c, err
}
