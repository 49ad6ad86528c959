package middleware_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/daprshop/platform/middleware"
	"github.com/daprshop/platform/requestid"
)

func newStack(t *testing.T) (http.Handler, *middleware.HTTPMetrics, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	m := middleware.NewHTTPMetrics()
	r := mux.NewRouter()
	r.Use(middleware.RecordRoute)
	r.HandleFunc("/items/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	r.HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
	return middleware.Observe(zap.New(core), m, r), m, logs
}

func TestObserveLogsAndCountsByRouteTemplate(t *testing.T) {
	h, m, logs := newStack(t)
	for _, path := range []string{"/items/1", "/items/2", "/nowhere"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`http_requests_total{method="GET",route="/items/{id}",status="418"} 2`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`http_request_duration_seconds_bucket{method="GET",route="/items/{id}",status="418"`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	entries := logs.FilterMessage("request").All()
	if len(entries) != 3 {
		t.Fatalf("%d access log lines, want 3", len(entries))
	}
	f := entries[0].ContextMap()
	if f["route"] != "/items/{id}" || f["status"] != int64(418) || f["request_id"] == "" {
		t.Errorf("access log fields = %v", f)
	}
}

func TestObserveRecoversPanics(t *testing.T) {
	h, _, logs := newStack(t)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var p map[string]any
	if err := json.NewDecoder(rec.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	if p["requestId"] != rec.Header().Get(requestid.Header) || strings.Contains(rec.Body.String(), "kaboom") {
		t.Errorf("problem = %v", p)
	}
	if logs.FilterMessage("panic in handler").Len() != 1 {
		t.Error("panic not logged")
	}
}

func TestRequestID(t *testing.T) {
	h, _, _ := newStack(t)
	tests := []struct {
		name, sent string
		keep       bool
	}{
		{"generated when absent", "", false},
		{"kept when sane", "abc-123", true},
		{"replaced when it has spaces", "abc 123", false},
		{"replaced when too long", strings.Repeat("a", 200), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/items/1", nil)
			if tt.sent != "" {
				r.Header.Set(requestid.Header, tt.sent)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			got := rec.Header().Get(requestid.Header)
			if tt.keep && got != tt.sent {
				t.Errorf("id %q, want %q", got, tt.sent)
			}
			if !tt.keep && (got == "" || got == tt.sent || len(got) != 32) {
				t.Errorf("id %q, want a fresh 32-hex ID", got)
			}
		})
	}
}

func TestMetricsMethodLabelIsBounded(t *testing.T) {
	h, m, _ := newStack(t)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/items/1", nil))
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if strings.Contains(rec.Body.String(), `method="BREW"`) || !strings.Contains(rec.Body.String(), `method="OTHER"`) {
		t.Error("an arbitrary method became a label value")
	}
}
