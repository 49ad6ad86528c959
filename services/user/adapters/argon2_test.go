package adapters_test

import (
	"strings"
	"testing"

	"github.com/daprshop/user/adapters"
)

func TestArgon2Hasher(t *testing.T) {
	h := adapters.NewArgon2Hasher(adapters.Argon2Params{MemoryKiB: 1024, Time: 1, Threads: 1})
	hash, err := h.Hash("correct-horse-42")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=1024,t=1,p=1$") || strings.Contains(hash, "correct-horse") {
		t.Fatalf("hash %q", hash)
	}
	again, _ := h.Hash("correct-horse-42")
	if again == hash {
		t.Error("two hashes of one password are equal: salt missing")
	}
	// A hasher with other default parameters still verifies old hashes.
	other := adapters.NewArgon2Hasher(adapters.DefaultArgon2)
	for _, tt := range []struct {
		pw   string
		want bool
	}{{"correct-horse-42", true}, {"correct-horse-43", false}, {"", false}} {
		ok, err := other.Verify(hash, tt.pw)
		if err != nil || ok != tt.want {
			t.Errorf("Verify(%q) = %v, %v; want %v", tt.pw, ok, err, tt.want)
		}
	}
	if _, err := other.Verify("$2a$10$bcrypt-hash", "x"); err == nil {
		t.Error("a non-argon2id hash was accepted")
	}
}
