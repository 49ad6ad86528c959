package ports

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
)

// CacheUse is what a route does with the gateway's read cache.
type CacheUse int

const (
	NoCache    CacheUse = iota
	CacheReads          // lists and searches: the same answer for every caller
	CacheItem           // one product's read, {id} in the path: kept until its change event
	PurgeCache          // writes that change what cached reads return
)

// cacheEntries bounds the cache: a crawl of distinct URLs cannot grow it
// past this, it only stops adding until entries expire.
const cacheEntries = 20000

// readCache keeps answers to public catalog reads (Route.Cache), keyed by
// path and query, with a strong ETag so that clients and proxies
// revalidate with If-None-Match and get 304. Only 200 answers are kept.
//
// A successful write through a PurgeCache route empties it at once. Every
// other change (stock moved by orders, a write through another replica)
// arrives as a product or inventory event on every replica (CatalogEvents,
// then forget): it drops that product's reads and every list. A product's
// read is read from the store, so it is kept up to the policy's ItemTTL,
// the bound for an event that never comes; a list is kept CacheTTL, as it
// comes from the product replicas' own index, which follows changes on its
// own timer.
type readCache struct {
	mu      sync.RWMutex
	entries map[string]*cachedAnswer
	// generation changes on every purge: a read that started before a
	// purge does not store what it fetched.
	generation   atomic.Uint64
	hits, misses atomic.Uint64
	// events counts the change events received, skipped those of them
	// older than started.
	events, skipped atomic.Uint64
	started         time.Time
	// nextSweep bounds how often a full cache is scanned for expired
	// entries: a crawl of distinct URLs must not make every miss a scan.
	nextSweep time.Time
}

type cachedAnswer struct {
	product     string // the product of an item's read; "" for a list
	body        []byte
	contentType string
	etag        string
	expires     time.Time
}

func newReadCache() *readCache {
	return &readCache{entries: map[string]*cachedAnswer{}, started: time.Now()}
}

func (c *readCache) purge() {
	c.generation.Add(1)
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
}

func (c *readCache) view() cacheView {
	c.mu.RLock()
	n := len(c.entries)
	c.mu.RUnlock()
	return cacheView{Entries: n, Hits: c.hits.Load(), Misses: c.misses.Load(), Events: c.events.Load(), Skipped: c.skipped.Load()}
}

func (c *readCache) get(key string, now time.Time) *cachedAnswer {
	c.mu.RLock()
	a := c.entries[key]
	c.mu.RUnlock()
	if a == nil || now.After(a.expires) {
		return nil
	}
	return a
}

func (c *readCache) put(key string, a *cachedAnswer, generation uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.generation.Load() != generation {
		return
	}
	if len(c.entries) >= cacheEntries {
		if now.Before(c.nextSweep) {
			return
		}
		c.nextSweep = now.Add(time.Second)
		for k, e := range c.entries {
			if now.After(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= cacheEntries {
			return
		}
	}
	c.entries[key] = a
}

// forget drops the reads of products and every list, or everything when
// products is empty.
func (c *readCache) forget(products []string) {
	c.generation.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(products) == 0 {
		clear(c.entries)
		return
	}
	for k, a := range c.entries {
		if a.product == "" || slices.Contains(products, a.product) {
			delete(c.entries, k)
		}
	}
}

// cached serves GET from the cache while the policy's TTL for the route's
// kind of read is above zero.
func (e *Edge) cached(use CacheUse, next http.Handler) http.Handler {
	c := e.cache
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := e.policy.Load()
		ttl, product, cacheControl := p.CacheTTL, "", "public, max-age="+strconv.Itoa(int(p.CacheTTL/time.Second))
		if use == CacheItem {
			// Kept current by events, which reach no client: clients revalidate.
			ttl, product, cacheControl = p.ItemTTL, mux.Vars(r)["id"], "public, no-cache"
		}
		if ttl <= 0 || r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		key := r.URL.RequestURI()
		now := time.Now()
		if a := c.get(key, now); a != nil {
			c.hits.Add(1)
			a.serve(w, r, "HIT", cacheControl)
			return
		}
		c.misses.Add(1)
		generation := c.generation.Load()
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if rec.status != http.StatusOK || rec.header.Get("Set-Cookie") != "" {
			rec.replay(w)
			return
		}
		sum := sha256.Sum256(rec.body.Bytes())
		a := &cachedAnswer{
			product:     product,
			body:        rec.body.Bytes(),
			contentType: rec.header.Get("Content-Type"),
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
			expires:     now.Add(ttl),
		}
		c.put(key, a, generation, now)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		a.serve(w, r, "MISS", cacheControl)
	})
}

// purging empties the cache once a write through next has succeeded: as
// its answer's status is written, so no client can read the answer before
// the purge.
func (e *Edge) purging(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&purgeOnSuccess{ResponseWriter: w, cache: e.cache}, r)
	})
}

type purgeOnSuccess struct {
	http.ResponseWriter
	cache *readCache
	wrote bool
}

func (p *purgeOnSuccess) WriteHeader(status int) {
	if !p.wrote && status < 300 {
		p.cache.purge()
	}
	p.wrote = true
	p.ResponseWriter.WriteHeader(status)
}

func (p *purgeOnSuccess) Write(b []byte) (int, error) {
	if !p.wrote {
		p.WriteHeader(http.StatusOK)
	}
	return p.ResponseWriter.Write(b)
}

func (p *purgeOnSuccess) Unwrap() http.ResponseWriter { return p.ResponseWriter }

func (a *cachedAnswer) serve(w http.ResponseWriter, r *http.Request, outcome, cacheControl string) {
	h := w.Header()
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", cacheControl)
	h.Set("X-Cache", outcome)
	if matches(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if a.contentType != "" {
		h.Set("Content-Type", a.contentType)
	}
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.body)
}

// matches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func matches(ifNoneMatch, etag string) bool {
	if ifNoneMatch == "" {
		return false
	}
	for _, t := range strings.Split(ifNoneMatch, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// recorder holds an upstream answer until the cache has decided on it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(status int)      { r.status = status }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }

func (r *recorder) replay(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}
