package pathid_test

import (
	"testing"

	"github.com/daprshop/platform/pathid"
)

func TestCheck(t *testing.T) {
	for _, id := range []string{"demo-00042", "0b8e6a44-2f4c-4f43-9b61-6f5f2a0c8e11", "poison-1a2b", "a", "order.paid:1", "a@b"} {
		if err := pathid.Check(id); err != nil {
			t.Errorf("Check(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", "..", "../inventory/reservations/o1", "a/b", "a%2Fb", "%2e%2e", "a b", ".hidden", "-x", "a\nb", "a?b", "a#b", string(make([]byte, 201))} {
		if err := pathid.Check(id); err == nil {
			t.Errorf("Check(%q) accepted", id)
		}
	}
}
