package adapters_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/daprshop/platform/daprtest"
	"github.com/daprshop/platform/statestore"
	"github.com/daprshop/product/adapters"
	"github.com/daprshop/product/demo"
	"github.com/daprshop/product/domain"
)

// storeFor starts a daprd with the repository's product-store component file
// (default or a profile), under a key prefix of its own so the test neither
// sees nor disturbs other data, and returns a client and the store.
func storeFor(t *testing.T, file string) (dapr.Client, *statestore.Store) {
	t.Helper()
	component := daprtest.RepoComponent(t, file, "product-it-"+uuid.NewString()[:8])
	sc := daprtest.Start(t, daprtest.Options{AppID: "product", Resources: []string{component}})
	client, err := dapr.NewClientWithAddress(sc.GRPCAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client, statestore.New(client, "product-store")
}

var profiles = map[string]string{
	"redis":      "components/product-store.yaml",
	"postgresql": "components/profiles/postgres-rabbitmq/product-store.yaml",
}

// TestCatalogAtScale imports 10,000 products through a real sidecar, loads
// them into a second index (another replica), and pages through filters and
// sorts: every page is in order, and together the pages hold every match
// exactly once. The same test runs on Redis and on PostgreSQL.
func TestCatalogAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts daprd")
	}
	for name, file := range profiles {
		t.Run(name, func(t *testing.T) {
			client, store := storeFor(t, file)
			ctx := context.Background()
			seeds := demo.Products(10_000)
			t.Cleanup(func() { deleteAll(t, client, seeds) })
			writer := adapters.NewDaprCatalog(store, adapters.NewIndex(store, zap.NewNop()))
			start := time.Now()
			if err := writer.Import(ctx, seeds); err != nil {
				t.Fatal(err)
			}
			t.Logf("imported %d products in %s", len(seeds), time.Since(start).Round(time.Millisecond))

			// Importing again over products whose stock has moved (and was
			// written with first-write concurrency) keeps them as they are.
			moved := seeds[7].Product.ID
			if _, _, err := writer.UpdateStock(ctx, moved, func(s *domain.Stock) (bool, error) { return s.Set(12345), nil }); err != nil {
				t.Fatal(err)
			}
			if err := writer.Import(ctx, seeds[:500]); err != nil {
				t.Fatalf("second import: %v", err)
			}
			if _, s, err := writer.Get(ctx, moved); err != nil || s.Available != 12345 {
				t.Fatalf("a re-import reset moved stock: %+v %v", s, err)
			}

			replica := adapters.NewIndex(store, zap.NewNop())
			if err := replica.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			cat := replica.Catalog()
			if cat.Len() != len(seeds) {
				t.Fatalf("replica sees %d products, want %d", cat.Len(), len(seeds))
			}
			for _, s := range seeds[:200] {
				got, ok := cat.Get(s.Product.ID)
				if want := s.Product.Summary(s.Stock > 0); !ok || got.Name != want.Name || got.Price != want.Price || got.InStock != want.InStock {
					t.Fatalf("%s: %+v, want %+v", s.Product.ID, got, want)
				}
			}

			min, max := int64(2000), int64(9999)
			for name, q := range map[string]domain.Query{
				"all by name":                   {Limit: 100},
				"kitchen by price":              {Sort: domain.SortPriceAsc, Limit: 97, Category: "kitchen"},
				"in stock, price range, -price": {Sort: domain.SortPriceDesc, Limit: 50, InStock: true, MinPrice: &min, MaxPrice: &max},
				"search oak, newest":            {Sort: domain.SortNewest, Limit: 100, Text: "oak"},
				"search two words":              {Text: "nordic lamp", Limit: 10},
			} {
				t.Run(name, func(t *testing.T) { walk(t, cat, q, seeds) })
			}
		})
	}
}

// walk pages through q and checks the union of pages against the seeds.
func walk(t *testing.T, cat *domain.Catalog, q domain.Query, seeds []domain.Seed) {
	if err := q.Normalize(); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, s := range seeds {
		p := s.Product
		text := strings.ToLower(p.Name + " " + p.Description)
		ok := (q.Category == "" || p.Category == q.Category) && (!q.InStock || s.Stock > 0) &&
			(q.MinPrice == nil || p.Price.Amount >= *q.MinPrice) && (q.MaxPrice == nil || p.Price.Amount <= *q.MaxPrice)
		for _, w := range strings.Fields(strings.ToLower(q.Text)) {
			ok = ok && strings.Contains(text, w)
		}
		if ok {
			want[p.ID] = true
		}
	}
	seen := map[string]bool{}
	var prev *domain.Summary
	for pages := 0; ; pages++ {
		page, err := cat.Search(q)
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != len(want) {
			t.Fatalf("total %d, want %d", page.Total, len(want))
		}
		for i := range page.Items {
			s := page.Items[i]
			if seen[s.ID] || !want[s.ID] {
				t.Fatalf("page %d: %s repeated or not a match", pages, s.ID)
			}
			seen[s.ID] = true
			if prev != nil && !inOrder(q.Sort, *prev, s) {
				t.Fatalf("page %d: %s (%v) after %s (%v) breaks %q order", pages, s.ID, s, prev.ID, *prev, q.Sort)
			}
			prev = &s
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	if len(seen) != len(want) {
		t.Fatalf("pages held %d products, want %d", len(seen), len(want))
	}
}

func inOrder(sort string, a, b domain.Summary) bool {
	tie := a.ID < b.ID
	switch sort {
	case domain.SortPriceAsc:
		return a.Price.Amount < b.Price.Amount || a.Price.Amount == b.Price.Amount && tie
	case domain.SortPriceDesc:
		return a.Price.Amount > b.Price.Amount || a.Price.Amount == b.Price.Amount && tie
	case domain.SortNewest:
		return a.CreatedAt.After(b.CreatedAt) || a.CreatedAt.Equal(b.CreatedAt) && tie
	}
	an, bn := strings.ToLower(a.Name), strings.ToLower(b.Name)
	return an < bn || an == bn && tie
}

// TestReplicasConvergeOnWrites: a write through one replica is listed there
// at once and on another after its next refresh.
func TestReplicasConvergeOnWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts daprd")
	}
	for name, file := range profiles {
		t.Run(name, func(t *testing.T) {
			_, store := storeFor(t, file)
			ctx := context.Background()
			local := adapters.NewIndex(store, zap.NewNop())
			writer := adapters.NewDaprCatalog(store, local)
			other := adapters.NewIndex(store, zap.NewNop())
			for _, ix := range []*adapters.Index{local, other} {
				if err := ix.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
			}
			p, _ := domain.NewProduct(uuid.NewString(), domain.ProductFields{Name: "Test Kettle", Category: "kitchen",
				Price: domain.Money{Amount: 1999, Currency: "EUR"}}, time.Now())
			if err := writer.Create(ctx, p, 1); err != nil {
				t.Fatal(err)
			}
			if _, ok := local.Catalog().Get(p.ID); !ok {
				t.Fatal("the writing replica does not list its own write")
			}
			if err := other.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if s, ok := other.Catalog().Get(p.ID); !ok || !s.InStock {
				t.Fatalf("other replica: %+v %v", s, ok)
			}

			// Stock to zero: the product leaves the in-stock listing everywhere.
			if _, _, err := writer.UpdateStock(ctx, p.ID, func(s *domain.Stock) (bool, error) { return s.Hold("o1", 1) }); err != nil {
				t.Fatal(err)
			}
			_ = other.Refresh(ctx)
			if s, _ := other.Catalog().Get(p.ID); s.InStock {
				t.Fatal("sold out but still listed in stock")
			}
			if _, err := writer.Delete(ctx, p.ID); err != domain.ErrHasReservations {
				t.Fatalf("delete with a hold: %v", err)
			}
			_, _, _ = writer.UpdateStock(ctx, p.ID, func(s *domain.Stock) (bool, error) { return s.Release("o1"), nil })
			if _, err := writer.Delete(ctx, p.ID); err != nil {
				t.Fatal(err)
			}
			_ = other.Refresh(ctx)
			if _, ok := other.Catalog().Get(p.ID); ok || slices.ContainsFunc(other.Catalog().All(), func(s domain.Summary) bool { return s.ID == p.ID }) {
				t.Fatal("deleted product still listed")
			}
		})
	}
}

// deleteAll removes what the import wrote, so test runs do not pile up data.
func deleteAll(t *testing.T, client dapr.Client, seeds []domain.Seed) {
	var keys []string
	for i := range adapters.Shards {
		keys = append(keys, fmt.Sprintf("catalog|shard|%02d", i))
	}
	for _, s := range seeds {
		keys = append(keys, "product|"+s.Product.ID, "stock|"+s.Product.ID)
	}
	for start := 0; start < len(keys); start += 500 {
		if err := client.DeleteBulkState(context.Background(), "product-store", keys[start:min(start+500, len(keys))], nil); err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
	}
}
