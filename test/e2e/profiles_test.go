package e2e

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/daprshop/devrun/runner"
	"github.com/daprshop/platform/daprtest"
)

// TestComponentProfiles runs one suite on every component profile (the
// default, Redis, and each folder of components/profiles), each time with
// the same service binaries, built once: what differs between the runs is
// YAML only. DAPRSHOP_PROFILES=a,b limits the profiles (`make test-profiles
// PROFILES=nats`).
func TestComponentProfiles(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the whole topology once per profile")
	}
	root := daprtest.RepoRoot(t)
	profiles := profilesToTest(t, root)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out strings.Builder
	bins, err := runner.BuildApps(ctx, filepath.Join(root, "dapr.yaml"), t.TempDir(), &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	hashes := binaryHashes(t, bins)
	t.Logf("one build for every profile: %s", hashes)
	for _, p := range profiles {
		t.Run(p, func(t *testing.T) {
			// Two gateway replicas: catalog changes must reach both.
			run := startRun(t, root, []string{p}, bins, map[string]map[string]string{
				"gateway":      {runner.EnvReplicas: "2"},
				"notification": {"CLAIM_SWEEP": "1s"},
			})
			profileSuite(t, run)
		})
	}
	if got := binaryHashes(t, bins); got != hashes {
		t.Errorf("the binaries changed during the runs:\n%s\n%s", hashes, got)
	}
}

func profilesToTest(t *testing.T, root string) []string {
	if env := os.Getenv("DAPRSHOP_PROFILES"); env != "" {
		return strings.Split(env, ",")
	}
	all, err := runner.Profiles(root)
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"redis"}, all...)
}

func binaryHashes(t *testing.T, bins map[string]string) string {
	t.Helper()
	var parts []string
	for id, path := range bins {
		h, err := runner.FileSHA256(path)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, id+"="+h[:12])
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// startRun brings an isolated topology up (free ports, its own name
// resolution, Redis database, PostgreSQL database and outbox) and stops it
// when the test ends, printing its output if the test failed.
// unlimited are rate limits no suite reaches.
const unlimited = "users=100000/1m,products=100000/1m,orders=100000/1m,payments=100000/1m,admin=100000/1m,reviews=100000/1m,global=100000/1m"

func startRun(t *testing.T, root string, profiles []string, bins map[string]string, env ...map[string]map[string]string) *runner.Run {
	t.Helper()
	return startRunWith(t, root, func(o *runner.Options) {
		o.Profiles, o.Binaries = profiles, bins
		for _, e := range env {
			for app, vars := range e {
				if o.Env[app] == nil {
					o.Env[app] = map[string]string{}
				}
				maps.Copy(o.Env[app], vars)
			}
		}
	})
}

// startRunWith is startRun for options beyond profiles and environment.
func startRunWith(t *testing.T, root string, options func(*runner.Options)) *runner.Run {
	t.Helper()
	var out runner.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	o := runner.Options{
		RunFile: filepath.Join(root, "dapr.yaml"), FreePorts: true, StateDir: t.TempDir(), Out: &out,
		Env: map[string]map[string]string{
			"order":   {"FULFILMENT_DELAY": "2s"},
			"payment": {"PROVIDER_LATENCY": "20ms"},
			// Every test speaks from 127.0.0.1: the seed's limits would
			// throttle the suites themselves. TestTheEdge sets its own.
			"gateway": {"RATE_LIMITS": unlimited},
		},
	}
	options(&o)
	run, err := runner.Start(ctx, o)
	if err != nil {
		t.Fatalf("bring-up failed: %v\n%s", err, out.String())
	}
	t.Cleanup(func() {
		run.Stop()
		if t.Failed() {
			t.Logf("topology output:\n%s", out.String())
		}
	})
	t.Logf("profile %v ready in %s", run.Profiles(), run.Elapsed().Round(time.Millisecond))
	return run
}

// profileSuite is what every profile must do: accounts, the catalog, a
// checkout that ships, a declined one that compensates, an idempotent
// replay, an event reaching the notifier, a poison event dead-lettered
// after the configured deliveries and replayed, catalog changes reaching
// the edge cache of every gateway replica, and a stranded email claim
// finished by the sweep.
func profileSuite(t *testing.T, run *runner.Run) {
	gw := client{t: t, base: run.AppURL("gateway")}
	box := mailboxOf(run)
	t.Run("the sidecars run the profile's components", func(t *testing.T) { expectProfile(t, run) })
	admin := loginAdmin(t, run, gw)
	t.Run("catalog", func(t *testing.T) {
		r := gw.do("GET", "/api/products?limit=5", "")
		expect(t, "list", r, 200)
		if r.body["total"].(float64) < 1000 {
			t.Errorf("the demo catalog is not loaded: total %v", r.body["total"])
		}
	})
	lamp, mug := newProduct(t, gw, admin, 20, 2499), newProduct(t, gw, admin, 20, 899)
	t.Run("checkout ships", func(t *testing.T) { happyPath(t, gw, box, admin, lamp, mug) })
	t.Run("a decline compensates", func(t *testing.T) { declined(t, gw, box, admin, lamp) })
	t.Run("an Idempotency-Key replays", func(t *testing.T) { sameKeyThrice(t, gw, admin, mug) })
	t.Run("a buyer reviews what was shipped (Node.js service)", func(t *testing.T) { reviews(t, gw, admin) })
	t.Run("a poison event is dead-lettered and replayed", func(t *testing.T) { poison(t, run, gw, admin) })
	t.Run("a live key set in the profile's configuration store applies", func(t *testing.T) { liveKey(t, run, gw) })
	t.Run("every gateway replica hears of catalog changes", func(t *testing.T) { replicasSeeChanges(t, run, gw, admin) })
	t.Run("a claim a dead notifier left is swept and sent once", func(t *testing.T) { sweptClaim(t, run, box) })
}

// liveKey changes the products rate limit in the run's configuration store
// and waits for the gateway to announce it, then removes it again.
func liveKey(t *testing.T, run *runner.Run, gw client) {
	for _, step := range []struct{ value, want string }{
		{"products=99999/1m", `"products";q=99999;w=60`},
		{"", `"products";q=100000;w=60`}, // removed: the start-up limit
	} {
		if err := run.SetConfig("gateway.rate_limits", step.value); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for {
			r := gw.do("GET", "/api/products?limit=1", "")
			if strings.Contains(r.header.Get("RateLimit-Policy"), step.want) {
				t.Logf("%q in force after %s", step.value, time.Since(start).Round(time.Millisecond))
				break
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("after 5 s the policy is %q, want %s", r.header.Get("RateLimit-Policy"), step.want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// profileComponents is what each profile must have loaded, per app: the
// component types by name, as the sidecars report them.
var profileComponents = map[string]map[string]map[string]string{
	"redis":             {"order": {"pubsub": "pubsub.redis", "order-store": "state.redis", "order-workflow-store": "state.redis"}, "gateway": {"configstore": "configuration.redis"}},
	"postgres-rabbitmq": {"order": {"pubsub": "pubsub.rabbitmq", "order-store": "state.postgresql", "order-workflow-store": "state.postgresql"}, "user": {"user-store": "state.postgresql"}, "product": {"product-store": "state.postgresql"}, "payment": {"payment-store": "state.postgresql"}, "notification": {"notification-store": "state.postgresql"}, "reviews": {"reviews-store": "state.postgresql", "pubsub": "pubsub.rabbitmq"}, "gateway": {"configstore": "configuration.postgresql"}},
	"nats":              {"order": {"pubsub": "pubsub.jetstream"}, "notification": {"pubsub": "pubsub.jetstream"}},
	"kafka":             {"order": {"pubsub": "pubsub.kafka"}, "notification": {"pubsub": "pubsub.kafka"}, "reviews": {"pubsub": "pubsub.kafka"}},
	"mqtt":              {"order": {"pubsub": "pubsub.mqtt3"}, "notification": {"pubsub": "pubsub.mqtt3"}},
	"smtp":              {"notification": {"email": "bindings.smtp"}},
	"sqlite":            {"order": {"pubsub": "pubsub.redis"}},
	"consul":            {"order": {"pubsub": "pubsub.redis"}},
}

// profileResolver is the name resolver each profile's sidecars must use
// (isolated runs of the others resolve through a SQLite file of their own).
var profileResolver = map[string]string{"consul": "consul"}

// expectProfile checks, from the sidecars themselves, that the run uses
// the profile's components and name resolver.
func expectProfile(t *testing.T, run *runner.Run) {
	profile := run.Profiles()[0]
	want, ok := profileComponents[profile]
	if !ok {
		t.Fatalf("profileComponents has no entry for profile %s", profile)
	}
	for app, comps := range want {
		req, _ := http.NewRequest(http.MethodGet, run.SidecarURL(app)+"/v1.0/metadata", nil)
		req.Header.Set("dapr-api-token", run.APIToken(app))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var md struct {
			Components []struct{ Name, Type string } `json:"components"`
		}
		err = json.NewDecoder(resp.Body).Decode(&md)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, c := range md.Components {
			got[c.Name] = c.Type
		}
		for name, typ := range comps {
			if got[name] != typ {
				t.Errorf("%s's sidecar has %s = %q, want %s (it has %v)", app, name, got[name], typ, got)
			}
		}
	}
	resolver := profileResolver[profile]
	if resolver == "" {
		resolver = "sqlite"
	}
	// daprd logs its resolver once initialised, which can be just after it
	// reports healthy.
	deadline := time.Now().Add(10 * time.Second)
	for {
		log, err := os.ReadFile(run.LogFile("gateway-dapr"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(log), "Initialized name resolution to "+resolver) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the gateway's sidecar does not resolve names with %s", resolver)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if profile == "sqlite" {
		// The profile's own file, not the one an isolated run would use.
		if _, err := os.Stat(filepath.Join(run.StateDir(), "nameresolution.db")); err != nil {
			t.Errorf("the sqlite profile's name file: %v", err)
		}
	}
}
