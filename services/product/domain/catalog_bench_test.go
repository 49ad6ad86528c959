package domain_test

import (
	"testing"

	"github.com/daprshop/product/domain"
)

// In-process cost of the catalog's read path, without HTTP or sidecars:
// `make bench` reports it beside the end-to-end figures.
func BenchmarkSearch(b *testing.B) {
	cat := domain.NewCatalog(randomSummaries(10_000, 1))
	for name, q := range map[string]domain.Query{
		"first page by name":         {},
		"text, in stock, by price":   {Text: "oak", InStock: true, Sort: domain.SortPriceAsc},
		"category and price, newest": {Category: "kitchen", MinPrice: ptr(500), MaxPrice: ptr(3000), Sort: domain.SortNewest},
	} {
		_ = q.Normalize()
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := cat.Search(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNewCatalog(b *testing.B) {
	all := randomSummaries(10_000, 1)
	for b.Loop() {
		domain.NewCatalog(all)
	}
}
