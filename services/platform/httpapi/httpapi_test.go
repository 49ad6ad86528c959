package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/daprshop/platform/httpapi"
	"github.com/daprshop/platform/middleware"
)

// No ID in a path can name another path: dot segments and encoded
// separators are refused with 400 (or match no route), never cleaned into
// a redirect to another path.
func TestRouterRefusesIDsThatAreNotIDs(t *testing.T) {
	r := httpapi.NewRouter()
	r.HandleFunc("/things/{id}", func(w http.ResponseWriter, r *http.Request) {}).Methods(http.MethodGet)
	r.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) { t.Errorf("reached /other via %s", r.RequestURI) })
	for path, want := range map[string]int{
		"/things/ok-1.2":            200,
		"/things/..":                400,
		"/things/.":                 400,
		"/things/%2e%2e":            400,
		"/things/..%2Fother":        400,
		"/things/a%2Fb":             400,
		"/things/a%5Cb":             400,
		"/things/a%00":              400,
		"/things/../other":          404,
		"/things/x/..%2F..%2Fother": 404,
	} {
		req := httptest.NewRequest(http.MethodGet, "http://svc"+path, nil)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("%s: %d, want %d (%s)", path, rec.Code, want, rec.Header().Get("Location"))
		}
		if want == 400 && !strings.Contains(rec.Body.String(), `"id"`) {
			t.Errorf("%s: no field message for id: %s", path, rec.Body)
		}
	}
}

// pprof is served on the admin port only when asked for, and never on the
// service's own port.
func TestProfilingOnTheAdminPortOnly(t *testing.T) {
	opts := httpapi.Options{Log: zap.NewNop(), Metrics: middleware.NewHTTPMetrics(), SeparateAdmin: true, Profiling: true}
	status := func(h http.Handler, path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec.Code
	}
	if got := status(httpapi.AdminHandler(opts), "/debug/pprof/"); got != 200 {
		t.Errorf("admin port with profiling: %d", got)
	}
	if got := status(httpapi.AdminHandler(opts), "/debug/pprof/heap"); got != 200 {
		t.Errorf("heap profile: %d", got)
	}
	if got := status(httpapi.Handler(httpapi.NewRouter(), opts), "/debug/pprof/"); got != 404 {
		t.Errorf("service port: %d", got)
	}
	opts.Profiling = false
	if got := status(httpapi.AdminHandler(opts), "/debug/pprof/"); got != 404 {
		t.Errorf("admin port without profiling: %d", got)
	}
}
