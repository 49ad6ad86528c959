package storefront

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestIndexServedWithSecurityHeaders(t *testing.T) {
	h := Handler(http.NotFoundHandler())
	rec := get(t, h, http.MethodGet, "/", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /: %d", rec.Code)
	}
	want := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Cache-Control":           "no-cache",
		"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
	}
	for k, v := range want {
		if got := rec.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	body := rec.Body.String()
	if !strings.Contains(body, `<script type="module" src="/app.js">`) {
		t.Errorf("index.html does not load /app.js:\n%s", body)
	}
	// The CSP forbids inline code: the page must hold none.
	for _, inline := range []string{"<style", " style=", "javascript:"} {
		if strings.Contains(body, inline) {
			t.Errorf("index.html holds inline code %q", inline)
		}
	}
	for _, tag := range regexp.MustCompile(`(?i)<script\b[^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(tag, " src=") {
			t.Errorf("index.html holds an inline script: %s", tag)
		}
	}
	if handler := regexp.MustCompile(`(?i)\son[a-z]+\s*=`).FindString(body); handler != "" {
		t.Errorf("index.html holds an inline event handler %q", handler)
	}

	// Revalidation: the ETag answers 304.
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	again := get(t, h, http.MethodGet, "/", http.Header{"If-None-Match": {etag}})
	if again.Code != http.StatusNotModified {
		t.Errorf("GET / with If-None-Match: %d, want 304", again.Code)
	}
}

func TestScriptsAndStyles(t *testing.T) {
	h := Handler(http.NotFoundHandler())
	for target, ct := range map[string]string{
		"/app.js":           "text/javascript; charset=utf-8",
		"/api.js":           "text/javascript; charset=utf-8",
		"/views/catalog.js": "text/javascript; charset=utf-8",
		"/styles.css":       "text/css; charset=utf-8",
	} {
		rec := get(t, h, http.MethodGet, target, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", target, rec.Code)
			continue
		}
		if got := rec.Header().Get("Content-Type"); got != ct {
			t.Errorf("GET %s: Content-Type %q, want %q", target, got, ct)
		}
		if rec.Header().Get("Content-Security-Policy") == "" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: security headers missing: %v", target, rec.Header())
		}
		if rec.Body.Len() == 0 {
			t.Errorf("GET %s: empty body", target)
		}
	}
	if rec := get(t, h, http.MethodHead, "/app.js", nil); rec.Code != http.StatusOK {
		t.Errorf("HEAD /app.js: %d", rec.Code)
	}
}

func TestUnknownAndRefused(t *testing.T) {
	// A not-found handler that marks its answers, so a 404 from anywhere
	// else (http.NotFound, http.FileServer) fails the test.
	notFound := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Not-Found", "gateway")
		w.WriteHeader(http.StatusNotFound)
	})
	h := Handler(notFound)
	for _, target := range []string{"/nope.js", "/views/", "/static/index.html", "/../storefront.go", "/api/products"} {
		rec := get(t, h, http.MethodGet, target, nil)
		if rec.Code != http.StatusNotFound || rec.Header().Get("X-Not-Found") != "gateway" {
			t.Errorf("GET %s: %d, want the not-found handler's 404", target, rec.Code)
		}
		if rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no CSP on the 404", target)
		}
	}
	if rec := get(t, h, http.MethodPost, "/", nil); rec.Code != http.StatusNotFound || rec.Header().Get("X-Not-Found") != "gateway" {
		t.Errorf("POST /: %d, want the not-found handler's 404", rec.Code)
	}
}
