package e2e

import (
	"context"
	"encoding/hex"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/daprshop/devrun/runner"
	"github.com/daprshop/platform/daprtest"
)

// collector is an OTLP/gRPC trace receiver for the test: it keeps every span
// the sidecars export, by trace ID, with the service that sent it.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans map[string][]span // trace ID → spans
}

type span struct{ service, name, id, parent string }

func (c *collector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				id := hex.EncodeToString(s.GetTraceId())
				c.spans[id] = append(c.spans[id], span{service, s.GetName(), hex.EncodeToString(s.GetSpanId()), hex.EncodeToString(s.GetParentSpanId())})
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func (c *collector) trace(id string) []span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.spans[id])
}

// TestOneCheckoutIsOneTrace exports the sidecars' spans to a collector in
// the test and follows one checkout: a single trace, started at the
// gateway, holds spans from the order service, every service its workflow
// steps call, and the notifier that emails the buyer.
func TestOneCheckoutIsOneTrace(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the whole topology")
	}
	root := daprtest.RepoRoot(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	col := &collector{spans: map[string][]span{}}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, col)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)

	run := startRunWith(t, root, func(o *runner.Options) { o.TraceEndpoint = ln.Addr().String() })
	gw := client{t: t, base: run.AppURL("gateway")}
	admin := loginAdmin(t, run, gw)
	buyer := newShopper(t, gw)
	product := newProduct(t, gw, admin, 5, 1200)
	reqID := "trace-" + uuid.NewString()
	r := gw.do("POST", "/api/orders", `{"lines":[`+line(product, 1)+`],"paymentMethod":"tok_visa"}`,
		"Authorization", buyer.bearer, "Idempotency-Key", uuid.NewString(), "X-Request-ID", reqID)
	expect(t, "order", r, 201)
	if final := buyer.waitFinal(t, r.body["id"].(string), 30*time.Second); final["status"] != "shipped" {
		t.Fatalf("order ended %v", final["status"])
	}
	placed := logLines(t, run, "order", reqID, `"path":"/orders"`)
	if len(placed) == 0 || placed[0]["trace_id"] == nil {
		t.Fatalf("no traced log line of POST /orders: %v", placed)
	}
	traceID := placed[0]["trace_id"].(string)

	want := []string{"gateway", "order", "user", "product", "payment", "notification"}
	var services []string
	deadline := time.Now().Add(20 * time.Second) // sidecars export in batches
	for {
		seen := map[string]bool{}
		for _, s := range col.trace(traceID) {
			seen[s.service] = true
		}
		services = services[:0]
		for s := range seen {
			services = append(services, s)
		}
		sort.Strings(services)
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return seen[w] })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s holds spans of %v; missing %v", traceID, services, missing)
		}
		time.Sleep(250 * time.Millisecond)
	}
	spans := col.trace(traceID)
	var names []string
	for _, s := range spans {
		names = append(names, s.service+": "+s.name)
	}
	sort.Strings(names)
	t.Logf("trace %s: %d spans from %v:\n  %s", traceID, len(spans), services, strings.Join(slices.Compact(names), "\n  "))
}
