package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/daprshop/devrun/runner"
)

// checkoutKeepsItsOrigin places an order with a request ID of its own and
// checks that the calls the checkout makes for it, later and from workflow
// steps, reach the product and payment services under that request ID and
// in the trace the order service saw for POST /orders.
func checkoutKeepsItsOrigin(t *testing.T, run *runner.Run, gw client, admin string) {
	buyer := newShopper(t, gw)
	product := newProduct(t, gw, admin, 5, 700)
	reqID := "origin-" + uuid.NewString()
	body := `{"lines":[` + line(product, 1) + `],"paymentMethod":"tok_visa"}`
	r := gw.do("POST", "/api/orders", body, "Authorization", buyer.bearer, "Idempotency-Key", uuid.NewString(), "X-Request-ID", reqID)
	expect(t, "order", r, 201)
	if final := buyer.waitFinal(t, r.body["id"].(string), 30*time.Second); final["status"] != "shipped" {
		t.Fatalf("order ended %v", final["status"])
	}
	placed := logLines(t, run, "order", reqID, `"path":"/orders"`)
	if len(placed) == 0 {
		t.Fatalf("no log line of the order service for POST /orders with request ID %s", reqID)
	}
	trace, _ := placed[0]["trace_id"].(string)
	if trace == "" {
		t.Fatalf("POST /orders was served with no trace ID: %v", placed[0])
	}
	for _, want := range []struct{ app, path string }{
		{"product", `"path":"/inventory/reservations"`},
		{"payment", `"path":"/payments"`},
	} {
		lines := logLines(t, run, want.app, reqID, want.path)
		if len(lines) == 0 {
			t.Errorf("%s logged no request %s with request ID %s: the checkout's calls lost the placing request", want.app, want.path, reqID)
			continue
		}
		for _, l := range lines {
			if l["trace_id"] != trace {
				t.Errorf("%s served %s in trace %v, the order was placed in trace %s", want.app, want.path, l["trace_id"], trace)
			}
		}
	}
}

// logLines are an app's JSON log lines that hold request ID id and text.
func logLines(t *testing.T, run *runner.Run, app, id, text string) []map[string]any {
	t.Helper()
	f, err := os.Open(run.LogFile(app))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, id) || !strings.Contains(line, text) {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line[strings.Index(line, "{"):]), &m) == nil && m["request_id"] == id {
			out = append(out, m)
		}
	}
	return out
}
