package orderline_test

import (
	"slices"
	"testing"

	"github.com/daprshop/platform/invalid"
	"github.com/daprshop/platform/orderline"
)

func TestMergeChecksAndMergesLines(t *testing.T) {
	var v invalid.Error
	got := orderline.Merge(&v, []orderline.Line{{"b", 1}, {"a", 2}, {"b", 3}})
	if v.OrNil() != nil || !slices.Equal(got, []orderline.Line{{"a", 2}, {"b", 4}}) {
		t.Fatalf("%v %v", got, v.OrNil())
	}
	for name, in := range map[string][]orderline.Line{
		"none": nil, "zero quantity": {{"a", 0}}, "no product": {{"", 1}}, "a path in the ID": {{"../x", 1}},
		"too many units of one product": {{"a", 600}, {"a", 600}}, "too many lines": make([]orderline.Line, 51),
	} {
		var v invalid.Error
		if got := orderline.Merge(&v, in); got != nil || v.OrNil() == nil {
			t.Errorf("%s accepted: %v", name, got)
		}
	}
}
