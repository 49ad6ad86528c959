package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/daprshop/devrun/runner"
	"github.com/daprshop/platform/sweeplist"
)

// injectedEventPrefix starts the CloudEvent ID of an event a test puts on a
// topic itself, breaking its contract on purpose (checkPublishedEvents
// skips it).
const injectedEventPrefix = "poison-"

// poison publishes an order.paid event addressed to the test domain the
// notifier's sender always refuses as a temporary failure. It must be
// delivered exactly 1 + maxRetries times (the eventDelivery policy), land in
// the dead-letter topic, and a replay must put it through again. Only the
// order app may publish order.paid (publishingScopes), so the test
// publishes through the order app's sidecar, with its API token.
func poison(t *testing.T, run *runner.Run, gw client, admin string) {
	// The sidecar's deliveries, and the notifier's own try when the dead
	// letter arrives (an event dead-lettered while it was down is handled
	// then; this one fails again and is kept).
	want := configuredDeliveries(t) + 1
	id := publishPoison(t, run)
	d := deadLetterOf(t, gw, admin, id, want)
	if int(d["deliveries"].(float64)) != want || d["topic"] != "order.paid" {
		t.Fatalf("dead letter %v: want exactly %d deliveries of order.paid", d, want)
	}
	expect(t, "replay", gw.do("POST", "/api/admin/deadletters/"+id+"/replay", "", "Authorization", admin), 202)
	d = deadLetterOf(t, gw, admin, id, 2*want)
	if int(d["deliveries"].(float64)) != 2*want || d["replays"].(float64) != 1 {
		t.Fatalf("after replay: %v: want %d deliveries and 1 replay", d, 2*want)
	}
	expect(t, "customers cannot see dead letters", gw.do("GET", "/api/admin/deadletters", ""), 401)
}

// publishPoison publishes an order.paid event the notifier can never
// handle (its order does not exist) and answers its ID.
func publishPoison(t *testing.T, run *runner.Run) string {
	t.Helper()
	id := injectedEventPrefix + uuid.NewString()[:8]
	req, _ := http.NewRequest("POST", run.SidecarURL("order")+"/v1.0/publish/pubsub/order.paid?metadata.cloudevent.id="+id,
		strings.NewReader(`{"orderId":"`+id+`","email":"nobody@fail.invalid","total":{"amount":100,"currency":"EUR"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("dapr-api-token", run.APIToken("order"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("publish: %s", resp.Status)
	}
	return id
}

// deadLetterOf waits for the dead letter id to show at least deliveries
// deliveries in the admin API, and answers it.
func deadLetterOf(t *testing.T, gw client, admin, id string, deliveries int) map[string]any {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		r := gw.do("GET", "/api/admin/deadletters", "", "Authorization", admin)
		expect(t, "dead letters", r, 200)
		for _, it := range r.body["items"].([]any) {
			d := it.(map[string]any)
			if d["id"] == id && int(d["deliveries"].(float64)) >= deliveries {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead letter %s with %d deliveries not there after 45s: %s", id, deliveries, r.raw)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// crash places 20 orders, kills the order service and its sidecar with
// SIGKILL while they are in flight, restarts them, and checks that every
// order ends shipped or cancelled, that no order was charged twice, and that
// the stock adds up.
func crash(t *testing.T, run *runner.Run, gw client, admin string) {
	const initial = 1000
	product := newProduct(t, gw, admin, initial, 1500)
	s := newShopper(t, gw)
	type placed struct {
		id  string
		qty int
	}
	var orders []placed
	for i := range 20 {
		qty := 1 + i%3
		r := s.order(fmt.Sprintf("crash-%d", i), "tok_visa", line(product, qty))
		expect(t, "place", r, 201)
		orders = append(orders, placed{r.body["id"].(string), qty})
	}
	statuses := map[string]int{}
	for _, o := range orders[:5] {
		r := s.gw.do("GET", "/api/orders/"+o.id, "", "Authorization", s.bearer)
		statuses[fmt.Sprint(r.body["status"])]++
	}
	t.Logf("killing order + order-dapr; first 5 orders were %v", statuses)
	// Kill returns once both processes have exited; Restart waits until
	// they are ready again.
	if err := run.Kill("order"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run.Restart(ctx, "order"); err != nil {
		t.Fatal(err)
	}

	shipped := 0
	for _, o := range orders {
		final := s.waitFinal(t, o.id, 2*time.Minute)
		switch final["status"] {
		case "shipped":
			shipped += o.qty
			p := payment(t, gw, admin, final["paymentId"].(string))
			if p["status"] != "succeeded" || p["attempts"].(float64) != 1 || p["refunded"].(float64) != 0 {
				t.Errorf("order %s shipped with payment %v", o.id, p)
			}
		case "cancelled":
			if pid, _ := final["paymentId"].(string); pid != "" {
				p := payment(t, gw, admin, pid)
				if p["status"] == "succeeded" && p["refunded"] != p["amount"].(map[string]any)["amount"] {
					t.Errorf("order %s cancelled but payment %v not refunded", o.id, p)
				}
			}
		}
	}
	if got := available(t, gw, product); got != initial-shipped {
		t.Fatalf("stock %d, want %d - %d shipped = %d", got, initial, shipped, initial-shipped)
	}
	t.Logf("after the crash: %d units shipped over %d orders, stock %d", shipped, len(orders), initial-shipped)
}

// sweptClaim leaves in the notifier's store what a notifier that died
// between claiming an event and sending its email leaves: a claim, two
// minutes old, listed under its minute. The sweep (CLAIM_SWEEP, 1 s in these
// runs; lease 1 m) must send it, once.
func sweptClaim(t *testing.T, run *runner.Run, box mailbox) {
	id := "stranded-" + uuid.NewString()[:8]
	to := id + "@example.com"
	claimedAt := time.Now().UTC().Add(-2 * time.Minute)
	minute := claimedAt.Unix() / 60
	state := func(method, path, body string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(method, run.SidecarURL("notification")+"/v1.0/state/notification-store"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("dapr-api-token", run.APIToken("notification"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, b.String(), resp.Header.Get("ETag")
	}
	// The list of minutes may hold others' minutes: add ours to it, under
	// the version read.
	_, minutes, etag := state("GET", "/"+url.PathEscape(sweeplist.MinutesKey("claims")), "")
	minutes = strings.TrimSpace(minutes)
	if minutes == "" {
		minutes = "[]"
	}
	minutes = strings.TrimSuffix(minutes, "]")
	if minutes != "[" {
		minutes += ","
	}
	minutes += fmt.Sprint(minute) + "]"
	versioned := ""
	if etag != "" {
		versioned = fmt.Sprintf(`,"etag":%q,"options":{"concurrency":"first-write"}`, etag)
	}
	body := fmt.Sprintf(`[{"key":"claim|%s","value":{"to":%q,"subject":"Your order %s","body":"stranded","claimedAt":%q}},
		{"key":%q,"value":[%q]},{"key":%q,"value":%s%s}]`,
		id, to, id, claimedAt.Format(time.RFC3339Nano), sweeplist.ListKey("claims", id, claimedAt), id,
		sweeplist.MinutesKey("claims"), minutes, versioned)
	if status, out, _ := state("POST", "", body); status != 204 {
		t.Fatalf("write the stranded claim: %d %s", status, out)
	}
	// 3 s when run alone; a minute allows for a machine busy with the
	// other suites (a CI run once took more than 20 s).
	deadline := time.Now().Add(time.Minute)
	for len(box.subjects(t, to)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the sweep did not send the stranded claim's email in a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2500 * time.Millisecond) // two more sweeps
	if got := box.subjects(t, to); len(got) != 1 || got[0] != "Your order "+id {
		t.Fatalf("emails to %s: %v, want one", to, got)
	}
	_, claim, _ := state("GET", "/claim%7C"+id, "")
	if !strings.Contains(claim, `"sentAt"`) {
		t.Fatalf("the claim is not recorded as sent: %s", claim)
	}
}
