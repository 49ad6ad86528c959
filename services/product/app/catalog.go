package app

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/outbox"
	"github.com/daprshop/product/domain"
)

// Catalog implements the catalog use cases.
type Catalog struct {
	store  CatalogStore
	stock  StockStore
	reader CatalogReader
	events Announcer
	newID  func() string
	now    func() time.Time
}

// CatalogConfig holds the catalog's sources of new IDs and of time.
type CatalogConfig struct {
	// NewID names a new product.
	NewID func() string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// NewCatalog returns the catalog use cases.
func NewCatalog(store CatalogStore, stock StockStore, reader CatalogReader, pub Announcer, cfg CatalogConfig) *Catalog {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Catalog{store: store, stock: stock, reader: reader, events: pub, newID: cfg.NewID, now: cfg.Now}
}

// ProductView is a product with its stock, as GET /products/{id} shows it.
type ProductView struct {
	*domain.Product
	Available int64
}

// List filters, searches and pages the catalog.
func (c *Catalog) List(_ context.Context, q domain.Query) (domain.Page, error) {
	if err := q.Normalize(); err != nil {
		return domain.Page{}, err
	}
	return c.reader.Catalog().Search(q)
}

// Get returns one product with its current stock.
func (c *Catalog) Get(ctx context.Context, id string) (ProductView, error) {
	p, s, err := c.store.Get(ctx, id)
	if err != nil {
		return ProductView{}, err
	}
	return ProductView{Product: p, Available: s.Available}, nil
}

// Create adds a product with its initial stock.
func (c *Catalog) Create(ctx context.Context, f domain.ProductFields, stock int64) (ProductView, error) {
	p, err := domain.NewProduct(c.newID(), f, c.now())
	if err == nil {
		err = domain.CheckStock(stock)
	}
	if err != nil {
		return ProductView{}, err
	}
	v := ProductView{Product: p, Available: stock}
	e := changed(events.TopicProductCreated, events.TopicProductCreated+"/"+p.ID, v)
	ticket, err := c.events.Expect(ctx, e)
	if err != nil {
		return ProductView{}, err
	}
	if err := c.store.Create(ctx, p, stock); err != nil {
		c.events.Forget(ctx, ticket, err)
		return ProductView{}, err
	}
	c.events.Announce(ctx, ticket, e)
	return v, nil
}

// Replace sets a product's fields and, when stock is given, its available stock.
func (c *Catalog) Replace(ctx context.Context, id string, f domain.ProductFields, stock *int64) (ProductView, error) {
	if err := f.Validate(); err != nil {
		return ProductView{}, err
	}
	if stock != nil {
		if err := domain.CheckStock(*stock); err != nil {
			return ProductView{}, err
		}
	}
	// Its version is known once written; the ticket names the product.
	ticket, err := c.events.Expect(ctx, events.Event{Topic: events.TopicProductUpdated, Subject: id})
	if err != nil {
		return ProductView{}, err
	}
	if stock != nil {
		// A stock count set by an admin; open reservations keep their holds.
		if _, _, err := c.stock.UpdateStock(ctx, id, func(s *domain.Stock) (bool, error) { return s.Set(*stock), nil }); err != nil {
			c.events.Forget(ctx, ticket, err)
			return ProductView{}, err
		}
	}
	p, s, err := c.store.Update(ctx, id, func(p *domain.Product) error { return p.Replace(f, c.now()) })
	if err != nil {
		if stock == nil { // else the stock changed: the sweep announces it
			c.events.Forget(ctx, ticket, err)
		}
		return ProductView{}, err
	}
	v := ProductView{Product: p, Available: s.Available}
	c.events.Announce(ctx, ticket, updated(v))
	return v, nil
}

func updated(v ProductView) events.Event {
	return changed(events.TopicProductUpdated, events.TopicProductUpdated+"/"+v.ID+"/"+strconv.FormatInt(v.Version, 10), v)
}

// Delete removes a product that no open reservation holds.
func (c *Catalog) Delete(ctx context.Context, id string) error {
	e := events.Event{
		ID: events.TopicProductDeleted + "/" + id, Topic: events.TopicProductDeleted, Subject: id,
		Data: events.ProductDeleted{ProductID: id, At: c.now().UTC()},
	}
	ticket, err := c.events.Expect(ctx, e)
	if err != nil {
		return err
	}
	if _, err := c.store.Delete(ctx, id); err != nil {
		c.events.Forget(ctx, ticket, err)
		return err
	}
	c.events.Announce(ctx, ticket, e)
	return nil
}

// Restate answers what a product an event was expected for looks like
// now, for the outbox's sweep (outbox.Restated).
func (c *Catalog) Restate(ctx context.Context, expected events.Event) (events.Event, bool, error) {
	v, err := c.Get(ctx, expected.Subject)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return events.Event{}, false, err
	}
	e, ok := outbox.Restated(expected, err == nil, events.TopicProductCreated, events.TopicProductDeleted,
		func() events.Event { return updated(v) })
	return e, ok, nil
}

func changed(topic, id string, v ProductView) events.Event {
	return events.Event{ID: id, Topic: topic, Subject: v.ID, Data: events.ProductChanged{
		ProductID: v.ID, Name: v.Name, Description: v.Description, Category: v.Category,
		Price: events.Money(v.Price), Available: v.Available, Version: v.Version, At: v.UpdatedAt,
	}}
}
