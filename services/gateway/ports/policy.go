package ports

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/daprshop/platform/invalid"
)

// Policy is the edge's configuration in force: limits, timeouts and body
// sizes per route group, and the origins allowed to call from a browser.
// It is read at start and may be replaced while serving (see Edge.SetPolicy).
type Policy struct {
	// Version names where the policy came from, for /gateway/stats and logs.
	Version     string
	Global      Limit
	Groups      map[string]GroupPolicy
	CORSOrigins []string
	// Off are the features switched off (see Features): their routes
	// answer 503 until switched on again.
	Off map[string]bool
	// CacheTTL is how long lists and searches of the catalog are kept at
	// the edge (Route.Cache); 0 keeps nothing.
	CacheTTL time.Duration
	// ItemTTL is how long one product's read is kept: its change events
	// drop it sooner (cache.go); 0 keeps nothing.
	ItemTTL time.Duration
}

// Features are the switches an operator may turn off while serving, each
// closing the routes marked with it (Route.Feature).
var Features = []string{"registration", "checkout"}

// GroupPolicy is what applies to every route of a group.
type GroupPolicy struct {
	Limit   Limit
	Timeout time.Duration
	MaxBody int64
}

// Groups are the route groups, as in the seed's gateway, and reviews (the
// Node.js service).
var Groups = []string{"users", "products", "orders", "payments", "admin", "reviews"}

// Settings are the edge's keys, each a list of group=value pairs (see
// README, "The edge"). An empty value keeps the default.
type Settings struct {
	RateLimits  string // users=50/15m,...,global=1000/1m
	Timeouts    string // users=5s,products=3s,...
	BodyLimits  string // users=16KiB,...
	CORSOrigins string // https://shop.example,http://localhost:5173
	Features    string // checkout=off,registration=on
	CacheTTL    string // 1s; 0 turns the edge cache of lists off
	ItemTTL     string // 1m; 0 turns the edge cache of single products off
}

// The live keys of the edge in the configuration store; each holds what
// the matching Settings field does, over the start-up values.
const (
	KeyRateLimits  = "gateway.rate_limits"
	KeyTimeouts    = "gateway.timeouts"
	KeyCacheTTL    = "gateway.cache_ttl"
	KeyItemTTL     = "gateway.item_cache_ttl"
	KeyBodyLimits  = "gateway.body_limits"
	KeyCORSOrigins = "gateway.cors_origins"
	KeyFeatures    = "gateway.features"
)

// LiveKeys are the keys the gateway follows.
var LiveKeys = []string{KeyRateLimits, KeyTimeouts, KeyBodyLimits, KeyCORSOrigins, KeyFeatures, KeyCacheTTL, KeyItemTTL}

// LiveSettings reads the live keys' values.
func LiveSettings(values map[string]string) Settings {
	return Settings{RateLimits: values[KeyRateLimits], Timeouts: values[KeyTimeouts], BodyLimits: values[KeyBodyLimits],
		CORSOrigins: values[KeyCORSOrigins], Features: values[KeyFeatures], CacheTTL: values[KeyCacheTTL], ItemTTL: values[KeyItemTTL]}
}

// DefaultSettings are the seed's figures, and for reviews (not in the
// seed) the admin group's limit, the catalog's timeout and body size of a
// user's form.
var DefaultSettings = Settings{
	RateLimits: "users=50/15m,products=100/15m,orders=30/15m,payments=10/15m,admin=300/15m,reviews=300/15m,global=1000/1m",
	Timeouts:   "users=5s,products=3s,orders=10s,payments=5s,admin=10s,reviews=3s",
	BodyLimits: "users=16KiB,products=64KiB,orders=64KiB,payments=4KiB,admin=16KiB,reviews=16KiB",
	// A list shows a change within a second of the product replicas'
	// index (README, "The edge").
	CacheTTL: "1s",
	// A product's own read shows a change as soon as its event arrives;
	// the TTL bounds what a lost event leaves behind.
	ItemTTL: "1m",
}

// ParsePolicy reads s over base (a value absent from s keeps base's) and
// validates the result; errors name the key and the pair at fault.
func ParsePolicy(base Policy, s Settings, version string) (Policy, error) {
	p := Policy{Version: version, Global: base.Global, Groups: map[string]GroupPolicy{}, CORSOrigins: base.CORSOrigins, Off: maps.Clone(base.Off),
		CacheTTL: base.CacheTTL, ItemTTL: base.ItemTTL}
	if p.Off == nil {
		p.Off = map[string]bool{}
	}
	for _, g := range Groups {
		p.Groups[g] = base.Groups[g]
	}
	var errs []invalid.Field
	fail := func(key, msg string) { errs = append(errs, invalid.Field{Name: key, Message: msg}) }

	eachPair("rate-limits", s.RateLimits, fail, func(group, v string) error {
		l, err := parseLimit(v)
		if err != nil {
			return err
		}
		if group == GlobalGroup {
			p.Global = l
			return nil
		}
		return setGroup(p.Groups, group, func(gp *GroupPolicy) { gp.Limit = l })
	})
	eachPair("timeouts", s.Timeouts, fail, func(group, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond || d > 2*time.Minute {
			return fmt.Errorf("%q is not a duration between 100ms and 2m", v)
		}
		return setGroup(p.Groups, group, func(gp *GroupPolicy) { gp.Timeout = d })
	})
	eachPair("body-limits", s.BodyLimits, fail, func(group, v string) error {
		n, err := parseSize(v)
		if err != nil {
			return err
		}
		return setGroup(p.Groups, group, func(gp *GroupPolicy) { gp.MaxBody = n })
	})
	eachPair("features", s.Features, fail, func(feature, v string) error {
		if !slices.Contains(Features, feature) {
			return fmt.Errorf("no feature %q (features: %s)", feature, strings.Join(Features, ", "))
		}
		switch v {
		case "on":
			delete(p.Off, feature)
		case "off":
			p.Off[feature] = true
		default:
			return fmt.Errorf("%q is neither on nor off", v)
		}
		return nil
	})
	parseTTL("cache-ttl", s.CacheTTL, "1m", &p.CacheTTL, fail)
	parseTTL("item-cache-ttl", s.ItemTTL, "10m", &p.ItemTTL, fail)
	if s.CORSOrigins != "" {
		origins, err := parseOrigins(s.CORSOrigins)
		if err != nil {
			fail("cors-origins", err.Error())
		} else {
			p.CORSOrigins = origins
		}
	}
	for _, g := range Groups {
		if p.Groups[g].Timeout == 0 || p.Groups[g].MaxBody == 0 {
			fail("timeouts", "group "+g+" needs a timeout and a body limit")
		}
	}
	if len(errs) > 0 {
		return base, &invalid.Error{Fields: errs}
	}
	return p, nil
}

func eachPair(key, list string, fail func(key, msg string), set func(group, value string) error) {
	if strings.TrimSpace(list) == "" {
		return
	}
	for _, pair := range strings.Split(list, ",") {
		group, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			fail(key, fmt.Sprintf("%q is not group=value", pair))
			continue
		}
		if err := set(strings.TrimSpace(group), strings.TrimSpace(value)); err != nil {
			fail(key, group+": "+err.Error())
		}
	}
}

func setGroup(groups map[string]GroupPolicy, group string, set func(*GroupPolicy)) error {
	gp, ok := groups[group]
	if !ok {
		return fmt.Errorf("no route group %q (groups: %s)", group, strings.Join(Groups, ", "))
	}
	set(&gp)
	groups[group] = gp
	return nil
}

// parseLimit reads "100/15m"; "0/1m" turns the limit off.
func parseLimit(v string) (Limit, error) {
	n, w, ok := strings.Cut(v, "/")
	requests, err := strconv.Atoi(n)
	if !ok || err != nil || requests < 0 {
		return Limit{}, fmt.Errorf("%q is not requests/window, like 100/15m", v)
	}
	window, err := time.ParseDuration(w)
	if err != nil || window < time.Second || window > 24*time.Hour {
		return Limit{}, fmt.Errorf("%q: the window must be a duration between 1s and 24h", v)
	}
	return Limit{Requests: requests, Window: window}, nil
}

// parseSize reads bytes with an optional KiB or MiB suffix.
func parseSize(v string) (int64, error) {
	mult, num := int64(1), v
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20} {
		if strings.HasSuffix(v, suffix) {
			mult, num = m, strings.TrimSuffix(v, suffix)
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n*mult > 64<<20 {
		return 0, fmt.Errorf("%q is not a size between 1 and 64MiB (bytes, or with KiB or MiB)", v)
	}
	return n * mult, nil
}

// parseOrigins reads a comma-separated allow-list of exact origins. A
// wildcard is refused: the API is called with credentials, and a wildcard
// would let any site do that with a visitor's token.
func parseOrigins(v string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(v, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if o == "*" || strings.Contains(o, "*") {
			return nil, fmt.Errorf("%q: no wildcards; list each origin", o)
		}
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return nil, fmt.Errorf("%q is not an origin like https://shop.example or http://localhost:5173", o)
		}
		out = append(out, strings.ToLower(o))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// parseTTL sets *ttl from v, a duration from 0 to most, when v is given.
func parseTTL(key, v, most string, ttl *time.Duration, fail func(key, msg string)) {
	if v == "" {
		return
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if limit, _ := time.ParseDuration(most); err != nil || d < 0 || d > limit {
		fail(key, fmt.Sprintf("%q is not a duration between 0s and %s", v, most))
		return
	}
	*ttl = d
}
