package ports

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/daprshop/platform/problem"
)

func TestParseQuery(t *testing.T) {
	q, err := parseQuery(httptest.NewRequest("GET", "/products?q=oak+lamp&category=home&minPrice=100&maxPrice=900&inStock=true&sort=-price&limit=5&cursor=abc", nil))
	if err != nil || q.Text != "oak lamp" || q.Category != "home" || *q.MinPrice != 100 || *q.MaxPrice != 900 ||
		!q.InStock || q.Sort != "-price" || q.Limit != 5 || q.Cursor != "abc" {
		t.Fatalf("%+v %v", q, err)
	}
	_, err = parseQuery(httptest.NewRequest("GET", "/products?minPrice=cheap&maxPrice=1.5&inStock=maybe", nil))
	var p *problem.Problem
	if !errors.As(err, &p) || len(p.Errors) != 3 {
		t.Fatalf("want three field errors, got %v", err)
	}
	if q, _ := parseQuery(httptest.NewRequest("GET", "/products?limit=0", nil)); q.Normalize() == nil {
		t.Error("limit=0 taken as the default instead of refused")
	}
}
