// Package storefront serves the shop's web front end: static files (plain
// ES modules, no build step) embedded in the gateway's binary. The pages
// talk to the public API under /api/, which the gateway routes elsewhere.
package storefront

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

//go:embed static
var files embed.FS

// ContentSecurityPolicy allows only the storefront's own scripts, styles
// and API: no inline code, no third party, no framing.
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"

// contentTypes are set here rather than taken from the machine's MIME
// tables, which may name JavaScript otherwise.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
}

type file struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the storefront: index.html at /, every other embedded file
// at its path; anything else goes to notFound (the gateway's problem+json
// answer), as do methods other than GET and HEAD. Every answer carries the
// security headers; files are revalidated on each use (no-cache, with an
// ETag), so a new gateway build is seen at once.
func Handler(notFound http.Handler) http.Handler {
	static, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	byPath := map[string]file{}
	err = fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		ext := path.Ext(p)
		ct, ok := contentTypes[ext]
		if !ok {
			ct = mime.TypeByExtension(ext)
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		byPath["/"+p] = file{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		p := r.URL.Path
		if p == "/" {
			p = "/index.html"
		}
		// An exact lookup: only the embedded files' own paths are served.
		f, ok := byPath[p]
		if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			notFound.ServeHTTP(w, r)
			return
		}
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
	})
}
