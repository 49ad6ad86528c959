// Package orderline holds the rules every service applies to the lines of
// an order (the order service when it is placed, the product service when
// its stock is reserved): how many lines, how much of one product, and one
// line per product.
package orderline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/daprshop/platform/invalid"
	"github.com/daprshop/platform/pathid"
)

// Limits of an order.
const (
	MaxLines    = 50
	MaxQuantity = 1000 // units of one product
)

// Line is a quantity of one product.
type Line struct {
	ProductID string
	Quantity  int64
}

// Merge checks lines against the limits, adding a message per field to v,
// and returns them with the lines of one product merged, sorted by product
// ID (nil when v holds a problem).
func Merge(v *invalid.Error, lines []Line) []Line {
	if len(lines) == 0 || len(lines) > MaxLines {
		v.Add("lines", fmt.Sprintf("must hold 1 to %d lines", MaxLines))
	}
	merged := map[string]int64{}
	for i, l := range lines {
		// Sent on in URLs and keys: a well-formed ID only.
		if err := pathid.Check(l.ProductID); err != nil {
			v.Add(fmt.Sprintf("lines[%d].productId", i), err.Error())
		}
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			v.Add(fmt.Sprintf("lines[%d].quantity", i), fmt.Sprintf("must be between 1 and %d", MaxQuantity))
		}
		merged[l.ProductID] += l.Quantity
	}
	if v.OrNil() != nil {
		return nil
	}
	out := make([]Line, 0, len(merged))
	for id, q := range merged {
		if q > MaxQuantity {
			v.Add("lines", fmt.Sprintf("must not ask for more than %d units of one product", MaxQuantity))
			return nil
		}
		out = append(out, Line{ProductID: id, Quantity: q})
	}
	slices.SortFunc(out, func(a, b Line) int { return strings.Compare(a.ProductID, b.ProductID) })
	return out
}
