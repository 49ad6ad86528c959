package domain_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daprshop/product/domain"
)

func randomSummaries(n int, seed uint64) []domain.Summary {
	r := rand.New(rand.NewPCG(seed, 1))
	words := []string{"red", "blue", "steel", "oak", "lamp", "chair", "mug", "Kettle", "desk", "wool"}
	cats := []string{"home", "kitchen", "office"}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]domain.Summary, n)
	for i := range out {
		out[i] = domain.Summary{
			ID:          fmt.Sprintf("p%05d", r.IntN(1_000_000)*10+i%10), // random order, unique
			Name:        words[r.IntN(len(words))] + " " + words[r.IntN(len(words))],
			Description: "a " + words[r.IntN(len(words))] + " thing",
			Category:    cats[r.IntN(len(cats))],
			Price:       domain.Money{Amount: int64(r.IntN(50)) * 100, Currency: "EUR"}, // many ties
			InStock:     r.IntN(4) > 0,
			CreatedAt:   base.Add(time.Duration(r.IntN(100)) * time.Hour), // many ties
		}
	}
	return out
}

// reference answers a query the slow, obvious way.
func reference(all []domain.Summary, q domain.Query) []domain.Summary {
	var out []domain.Summary
	for _, s := range all {
		text := strings.ToLower(s.Name + "\n" + s.Description)
		ok := (q.Category == "" || s.Category == q.Category) &&
			(q.MinPrice == nil || s.Price.Amount >= *q.MinPrice) &&
			(q.MaxPrice == nil || s.Price.Amount <= *q.MaxPrice) &&
			(!q.InStock || s.InStock)
		for _, w := range strings.Fields(strings.ToLower(q.Text)) {
			ok = ok && strings.Contains(text, w)
		}
		if ok {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b domain.Summary) int {
		var c int
		switch q.Sort {
		case domain.SortPriceAsc:
			c = int(a.Price.Amount - b.Price.Amount)
		case domain.SortPriceDesc:
			c = int(b.Price.Amount - a.Price.Amount)
		case domain.SortNewest:
			c = b.CreatedAt.Compare(a.CreatedAt)
		default:
			c = strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		}
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		return c
	})
	return out
}

func ptr(v int64) *int64 { return &v }

// Walking every page must give exactly the reference answer: nothing
// skipped, nothing repeated, in order, with the right total on every page.
func TestSearchPagesMatchTheReference(t *testing.T) {
	all := randomSummaries(3000, 7)
	cat := domain.NewCatalog(all)
	queries := []domain.Query{
		{},
		{Sort: domain.SortPriceAsc, Limit: 7},
		{Sort: domain.SortPriceDesc, Limit: 100, InStock: true},
		{Sort: domain.SortNewest, Limit: 13, Category: "kitchen"},
		{Text: "red LAMP", Limit: 5},
		{Text: "oak", MinPrice: ptr(1000), MaxPrice: ptr(2500), Sort: domain.SortPriceAsc, Limit: 9},
		{Text: "nothing-matches-this"},
	}
	for _, q := range queries {
		t.Run(fmt.Sprintf("%+v", q), func(t *testing.T) {
			if err := q.Normalize(); err != nil {
				t.Fatal(err)
			}
			want := reference(all, q)
			var got []domain.Summary
			pages := 0
			for {
				p, err := cat.Search(q)
				if err != nil {
					t.Fatal(err)
				}
				if p.Total != len(want) {
					t.Fatalf("page %d: total %d, want %d", pages, p.Total, len(want))
				}
				if len(p.Items) > q.Limit {
					t.Fatalf("page of %d items, limit %d", len(p.Items), q.Limit)
				}
				got = append(got, p.Items...)
				pages++
				if p.NextCursor == "" {
					break
				}
				q.Cursor = p.NextCursor
			}
			if len(got) != len(want) {
				t.Fatalf("%d items over %d pages, want %d", len(got), pages, len(want))
			}
			for i := range want {
				if got[i].ID != want[i].ID {
					t.Fatalf("item %d is %s, want %s", i, got[i].ID, want[i].ID)
				}
			}
		})
	}
}

func TestCursorIsTiedToItsSortAndSurvivesInsertions(t *testing.T) {
	all := randomSummaries(200, 3)
	q := domain.Query{Sort: domain.SortPriceAsc, Limit: 10}
	_ = q.Normalize()
	p1, _ := domain.NewCatalog(all).Search(q)

	other := q
	other.Sort = domain.SortName
	other.Cursor = p1.NextCursor
	if _, err := domain.NewCatalog(all).Search(other); err != domain.ErrBadCursor {
		t.Errorf("cursor of another sort accepted: %v", err)
	}
	bad := q
	bad.Cursor = "not-a-cursor"
	if _, err := domain.NewCatalog(all).Search(bad); err != domain.ErrBadCursor {
		t.Errorf("garbage cursor accepted: %v", err)
	}

	// A product inserted before the cursor's position does not shift the next page.
	grown := append(slices.Clone(all), domain.Summary{ID: "aaa", Name: "cheap", Price: domain.Money{Amount: -1, Currency: "EUR"}})
	q.Cursor = p1.NextCursor
	p2, _ := domain.NewCatalog(grown).Search(q)
	q2 := q
	q2.Cursor = p1.NextCursor
	want, _ := domain.NewCatalog(all).Search(q2)
	if p2.Items[0].ID != want.Items[0].ID {
		t.Errorf("page 2 starts at %s after an insertion, want %s", p2.Items[0].ID, want.Items[0].ID)
	}
}

func TestQueryNormalize(t *testing.T) {
	for _, q := range []domain.Query{{Sort: "random"}, {Limit: 101}, {Limit: -1}, {MinPrice: ptr(5), MaxPrice: ptr(4)}} {
		if err := q.Normalize(); err == nil {
			t.Errorf("%+v accepted", q)
		}
	}
	q := domain.Query{}
	if err := q.Normalize(); err != nil || q.Sort != domain.SortName || q.Limit != domain.DefaultLimit {
		t.Errorf("defaults: %+v %v", q, err)
	}
}
