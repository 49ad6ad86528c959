// Package demo generates the demo catalog: the same products every time, so
// several replicas loading it at once write the same data.
package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/daprshop/product/domain"
)

var categories = []struct {
	slug  string
	nouns []string
	min   int64 // minor units
	max   int64
}{
	{"kitchen", []string{"Kettle", "Mug", "Skillet", "Chef's Knife", "Cutting Board", "Teapot", "Colander"}, 499, 14900},
	{"home", []string{"Lamp", "Throw Blanket", "Vase", "Cushion", "Mirror", "Candle", "Clock"}, 799, 24900},
	{"office", []string{"Desk", "Notebook", "Pen Set", "Monitor Stand", "Desk Organizer", "Chair"}, 299, 59900},
	{"outdoor", []string{"Tent", "Backpack", "Water Bottle", "Headlamp", "Camping Stove", "Hammock"}, 999, 39900},
	{"audio", []string{"Headphones", "Speaker", "Turntable", "Earbuds", "Soundbar"}, 1999, 89900},
	{"garden", []string{"Watering Can", "Planter", "Pruning Shears", "Hose", "Bird Feeder"}, 599, 12900},
	{"fitness", []string{"Yoga Mat", "Dumbbell", "Jump Rope", "Kettlebell", "Foam Roller"}, 899, 19900},
	{"books", []string{"Cookbook", "Field Guide", "Novel", "Atlas", "Sketchbook"}, 699, 4900},
}

var (
	adjectives = []string{"Classic", "Compact", "Deluxe", "Everyday", "Nordic", "Rustic", "Modern", "Vintage", "Travel", "Studio", "Urban", "Heritage"}
	materials  = []string{"Oak", "Steel", "Ceramic", "Linen", "Walnut", "Bamboo", "Copper", "Wool", "Glass", "Cotton", "Granite", "Cork"}
	blurbs     = []string{
		"built to last for years of daily use",
		"a thoughtful gift for friends and family",
		"designed in small batches by independent makers",
		"easy to clean and light to carry",
		"finished by hand with care",
		"part of our best-selling collection",
	}
)

// Products returns n demo products with their stock. About one in eight is
// out of stock, so the in-stock filter has something to do.
func Products(n int) []domain.Seed {
	r := rand.New(rand.NewPCG(2026, 11))
	created := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	out := make([]domain.Seed, n)
	for i := range out {
		c := categories[i%len(categories)]
		adj, mat := adjectives[r.IntN(len(adjectives))], materials[r.IntN(len(materials))]
		noun := c.nouns[r.IntN(len(c.nouns))]
		price := c.min + r.Int64N(c.max-c.min+1)
		price -= price % 100 // x.00
		price += 99          // x.99
		stock := r.Int64N(200) + 1
		if r.IntN(8) == 0 {
			stock = 0
		}
		at := created.Add(time.Duration(i) * 17 * time.Minute)
		out[i] = domain.Seed{
			Product: &domain.Product{
				ID: fmt.Sprintf("demo-%05d", i+1),
				ProductFields: domain.ProductFields{
					Name: fmt.Sprintf("%s %s %s", adj, mat, noun),
					Description: fmt.Sprintf("%s %s %s in %s, %s.", article(adj), strings.ToLower(adj), strings.ToLower(noun),
						strings.ToLower(mat), blurbs[r.IntN(len(blurbs))]),
					Category: c.slug,
					Price:    domain.Money{Amount: price, Currency: "EUR"},
				},
				Version: 1, CreatedAt: at, UpdatedAt: at,
			},
			Stock: stock,
		}
	}
	return out
}

func article(word string) string {
	if strings.ContainsRune("AEIOU", rune(word[0])) {
		return "An"
	}
	return "A"
}
