package adapters_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/daprshop/gateway/adapters"
)

// The fake sidecar answers the user service's session reads and counts them.
func TestSessionsAreCachedForTheirTTLAndReadOncePerBurst(t *testing.T) {
	var reads atomic.Int32
	var version atomic.Int64
	sidecar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reads.Add(1)
		if r.Header.Get("dapr-api-token") != "tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.EscapedPath() {
		case "/v1.0/invoke/user/method/users/u1/session":
			time.Sleep(20 * time.Millisecond) // long enough for the burst to pile up
			_, _ = w.Write([]byte(`{"userId":"u1","sessionVersion":` + string(rune('0'+version.Load())) + `}`))
		case "/v1.0/invoke/user/method/users/a%2F..%2Fb/session":
			w.WriteHeader(http.StatusNotFound)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer sidecar.Close()
	s := adapters.NewSessions(sidecarAt(t, sidecar.URL, "tok"), "user", 200*time.Millisecond, time.Second)
	ctx := context.Background()

	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, ok, err := s.Current(ctx, "u1"); err != nil || !ok || v != 0 {
				t.Errorf("Current = %d %v %v", v, ok, err)
			}
		}()
	}
	wg.Wait()
	if n := reads.Load(); n != 1 {
		t.Errorf("%d reads for a burst of 50, want 1", n)
	}
	version.Store(1) // a logout
	if v, _, _ := s.Current(ctx, "u1"); v != 0 {
		t.Errorf("within the TTL: version %d, want the cached 0", v)
	}
	time.Sleep(250 * time.Millisecond)
	if v, _, _ := s.Current(ctx, "u1"); v != 1 {
		t.Errorf("after the TTL: version %d, want 1", v)
	}
	if _, ok, err := s.Current(ctx, "a/../b"); err != nil || ok {
		t.Errorf("a deleted account (and its ID escaped): %v %v", ok, err)
	}
	if _, _, err := s.Current(ctx, "broken"); err == nil {
		t.Error("a failed read passed")
	}
}
