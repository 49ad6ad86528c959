package app

import (
	"context"
	"strconv"
	"time"

	"github.com/daprshop/platform/events"
	"github.com/daprshop/product/domain"
)

// Catalog implements the catalog use cases.
type Catalog struct {
	store  CatalogStore
	stock  StockStore
	reader CatalogReader
	events EventPublisher
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
func NewCatalog(store CatalogStore, stock StockStore, reader CatalogReader, pub EventPublisher, cfg CatalogConfig) *Catalog {
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
	if err := c.store.Create(ctx, p, stock); err != nil {
		return ProductView{}, err
	}
	v := ProductView{Product: p, Available: stock}
	events.Announce(ctx, c.events, changed(events.TopicProductCreated, events.TopicProductCreated+"/"+p.ID, v))
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
	if stock != nil {
		// A stock count set by an admin; open reservations keep their holds.
		if _, _, err := c.stock.UpdateStock(ctx, id, func(s *domain.Stock) (bool, error) { return s.Set(*stock), nil }); err != nil {
			return ProductView{}, err
		}
	}
	p, s, err := c.store.Update(ctx, id, func(p *domain.Product) error { return p.Replace(f, c.now()) })
	if err != nil {
		return ProductView{}, err
	}
	v := ProductView{Product: p, Available: s.Available}
	id = events.TopicProductUpdated + "/" + p.ID + "/" + strconv.FormatInt(p.Version, 10)
	events.Announce(ctx, c.events, changed(events.TopicProductUpdated, id, v))
	return v, nil
}

// Delete removes a product that no open reservation holds.
func (c *Catalog) Delete(ctx context.Context, id string) error {
	p, err := c.store.Delete(ctx, id)
	if err != nil {
		return err
	}
	events.Announce(ctx, c.events, events.Event{
		ID: events.TopicProductDeleted + "/" + p.ID, Topic: events.TopicProductDeleted, Subject: p.ID,
		Data: events.ProductDeleted{ProductID: p.ID, At: c.now().UTC()},
	})
	return nil
}

func changed(topic, id string, v ProductView) events.Event {
	return events.Event{ID: id, Topic: topic, Subject: v.ID, Data: events.ProductChanged{
		ProductID: v.ID, Name: v.Name, Description: v.Description, Category: v.Category,
		Price: events.Money(v.Price), Available: v.Available, Version: v.Version, At: v.UpdatedAt,
	}}
}
