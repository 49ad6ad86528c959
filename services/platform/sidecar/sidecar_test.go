package sidecar_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/daprshop/platform/sidecar"
)

func TestRequireAppToken(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	tests := []struct {
		name, configured, sent, path string
		want                         int
	}{
		{"right token", "s3cret", "s3cret", "/users/1", http.StatusNoContent},
		{"wrong token", "s3cret", "guess", "/users/1", http.StatusUnauthorized},
		{"no token", "s3cret", "", "/users/1", http.StatusUnauthorized},
		{"probes stay open", "s3cret", "", "/readyz", http.StatusNoContent},
		{"metrics stay open", "s3cret", "", "/metrics", http.StatusNoContent},
		{"feature off without a configured token", "", "", "/users/1", http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.sent != "" {
				r.Header.Set(sidecar.TokenHeader, tt.sent)
			}
			rec := httptest.NewRecorder()
			sidecar.RequireAppToken(tt.configured, ok).ServeHTTP(rec, r)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d", rec.Code, tt.want)
			}
		})
	}
}
