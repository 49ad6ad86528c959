package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/daprshop/platform/daprtest"
)

// The fuzz targets send what the fuzzer makes up to the public routes of
// a running system, through the gateway, and hold it to the edge's
// contract: bad input is a 4xx problem, never a 5xx, and a refused request
// stores nothing. Their seeds are committed in testdata/fuzz; `make
// test-fuzz` (TestFuzzRoutes) starts the system once and fuzzes each
// target for FUZZTIME. Without a system (plain `go test`) they skip.
const (
	envFuzzGateway  = "DAPRSHOP_FUZZ_GATEWAY"
	envFuzzAdmin    = "DAPRSHOP_FUZZ_ADMIN"
	envFuzzCustomer = "DAPRSHOP_FUZZ_CUSTOMER"
	envFuzzProduct  = "DAPRSHOP_FUZZ_PRODUCT"
)

var fuzzTargets = []string{
	"FuzzRegister", "FuzzLogin", "FuzzRefresh", "FuzzUpdateAccount",
	"FuzzListProducts", "FuzzGetProduct", "FuzzCreateProduct", "FuzzReplaceProduct",
	"FuzzPlaceOrder", "FuzzGetOrder", "FuzzCancelOrder", "FuzzReplayDeadLetter",
	"FuzzListReviews", "FuzzWriteReview",
}

// TestFuzzRoutes starts the system, makes an admin, a customer and a
// product for the targets to use, and runs each target for FUZZTIME
// (go test -fuzz runs one target per process).
func TestFuzzRoutes(t *testing.T) {
	fuzztime := os.Getenv("FUZZTIME")
	if fuzztime == "" {
		t.Skip("`make test-fuzz` runs the fuzz targets (FUZZTIME=10s)")
	}
	root := daprtest.RepoRoot(t)
	// What a failing target printed comes again at the very end, after the
	// system's logs (registered first, this cleanup runs last): CI keeps
	// the tail of the output.
	var verdicts []string
	t.Cleanup(func() {
		for _, v := range verdicts {
			t.Log(v)
		}
	})
	run := startRun(t, root, nil, nil)
	gw := client{t: t, base: run.AppURL("gateway")}
	admin := loginAdmin(t, run, gw)
	customer := newShopper(t, gw)
	product := newProduct(t, gw, admin, 1000, 1200)
	env := append(os.Environ(), envFuzzGateway+"="+gw.base, envFuzzAdmin+"="+admin,
		envFuzzCustomer+"="+customer.bearer, envFuzzProduct+"="+product)
	for _, target := range fuzzTargets {
		if !strings.Contains(target, os.Getenv("FUZZ")) {
			continue
		}
		t.Run(target, func(t *testing.T) {
			start := time.Now()
			// One worker: a target's checks compare reads before and after
			// each request, which another worker's request would disturb.
			var before float64
			if target == "FuzzCreateProduct" {
				before = catalogTotal(t, gw)
			}
			cmd := exec.Command("go", "test", "-run", "^$", "-fuzz", "^"+target+"$", "-fuzztime", fuzztime, "-parallel", "1", ".")
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			execs := ""
			if i := strings.LastIndex(string(out), "execs: "); i >= 0 {
				execs = strings.Fields(string(out)[i:])[1]
			}
			t.Logf("%s: %s in %s (%s execs)", target, map[bool]string{true: "ok", false: "FAILED"}[err == nil], time.Since(start).Round(time.Second), execs)
			if err != nil {
				lines := strings.Split(strings.TrimSpace(string(out)), "\n")
				verdicts = append(verdicts, target+" failed:\n"+strings.Join(lines[max(0, len(lines)-20):], "\n"))
				t.Fatalf("%s\n(a failing input is saved under testdata/fuzz/%s: commit it as a seed once fixed)", out, target)
			}
			if target == "FuzzCreateProduct" {
				// The target deletes what it created; the catalog's list
				// shows writes after its index refresh (INDEX_REFRESH, 2 s).
				time.Sleep(3 * time.Second)
				if after := catalogTotal(t, gw); after != before {
					t.Errorf("the catalog held %v products before the fuzzing and %v after: a refused create stored one", before, after)
				}
			}
		})
	}
}

// fuzzSystem is the running system the targets fuzz.
type fuzzSystem struct {
	base, admin, customer, product string
}

func fuzzing(f *testing.F) fuzzSystem {
	s := fuzzSystem{base: os.Getenv(envFuzzGateway), admin: os.Getenv(envFuzzAdmin),
		customer: os.Getenv(envFuzzCustomer), product: os.Getenv(envFuzzProduct)}
	if s.base == "" {
		f.Skip("needs a running system: `make test-fuzz`")
	}
	return s
}

var fuzzHTTP = &http.Client{Timeout: 30 * time.Second}

// send makes one request and holds the answer to the edge's contract.
func (s fuzzSystem) send(t *testing.T, method, path, body string, headers ...string) (int, map[string]any) {
	t.Helper()
	// A request line with a space or a control character in its target is
	// refused by Go's HTTP server itself (400, text/plain) before any
	// handler runs: not a request a conforming client sends.
	if strings.IndexFunc(path, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0 {
		t.Skip("not a request target a client could send")
	}
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Skip("not a request a client could send:", err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if !validHeaderValue(headers[i+1]) {
			t.Skip("not a header a client could send")
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := fuzzHTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	checkAnswer(t, req, resp.StatusCode, resp.Header, raw)
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s with %q: %d %s", method, path, body, resp.StatusCode, raw)
	}
	if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("%s %s: %d answered as %q: %s", method, path, resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func validHeaderValue(v string) bool {
	for _, r := range v {
		if r < 0x20 && r != '\t' || r == 0x7f || r > 0x7e {
			return false
		}
	}
	return true
}

func refused(status int) bool { return status >= 400 }

func FuzzRegister(f *testing.F) {
	s := fuzzing(f)
	f.Add(`{"email":"a@example.com","name":"Ann","password":"correct-horse-42"}`)
	f.Add(`{"email":"not-an-email","name":"","password":"1"}`)
	f.Add(`{"email":123}`)
	f.Add(`[]`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, body string) {
		// Refused: no account, so its credentials do not log in (unless
		// they did before: an earlier input registered the same address).
		var in struct{ Email, Password string }
		login := func() int {
			creds, _ := json.Marshal(map[string]string{"email": in.Email, "password": in.Password})
			st, _ := s.send(t, "POST", "/api/users/login", string(creds))
			return st
		}
		check := json.Unmarshal([]byte(body), &in) == nil && in.Email != "" && login() != 200
		status, _ := s.send(t, "POST", "/api/users/register", body)
		if check && refused(status) && login() == 200 {
			t.Fatalf("a refused registration (%d) left an account that logs in: %s", status, body)
		}
	})
}

func FuzzLogin(f *testing.F) {
	s := fuzzing(f)
	f.Add(`{"email":"a@example.com","password":"wrong"}`)
	f.Add(`{"email":"","password":""}`)
	f.Add(`{"email":["x"]}`)
	f.Fuzz(func(t *testing.T, body string) { s.send(t, "POST", "/api/users/login", body) })
}

func FuzzRefresh(f *testing.F) {
	s := fuzzing(f)
	f.Add(`{"refreshToken":"abc"}`)
	f.Add(`{"refreshToken":""}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, body string) { s.send(t, "POST", "/api/users/refresh", body) })
}

func FuzzUpdateAccount(f *testing.F) {
	s := fuzzing(f)
	f.Add(`{"name":"Bea Two"}`)
	f.Add(`{"email":"bad"}`)
	f.Add(`{"password":"short","currentPassword":"x"}`)
	f.Add(`{"role":"admin"}`)
	f.Fuzz(func(t *testing.T, body string) {
		_, me := s.send(t, "GET", "/api/users/me", "", "Authorization", s.customer)
		id, _ := me["id"].(string)
		status, _ := s.send(t, "PUT", "/api/users/"+id, body, "Authorization", s.customer)
		if status == 401 {
			return // a change of email or password ends the session: stop here
		}
		if _, after := s.send(t, "GET", "/api/users/me", "", "Authorization", s.customer); refused(status) && fmt.Sprint(after) != fmt.Sprint(me) {
			t.Fatalf("a refused update (%d) changed the account: %v -> %v", status, me, after)
		}
	})
}

func FuzzListProducts(f *testing.F) {
	s := fuzzing(f)
	f.Add("limit=5&category=home")
	f.Add("q=lamp&minPrice=100&maxPrice=50")
	f.Add("cursor=%%%&limit=-1")
	f.Add("sort=price&order=desc&limit=1000")
	f.Fuzz(func(t *testing.T, query string) { s.send(t, "GET", "/api/products?"+query, "") })
}

func FuzzGetProduct(f *testing.F) {
	s := fuzzing(f)
	f.Add("demo-00001")
	f.Add("..")
	f.Add("%00")
	f.Fuzz(func(t *testing.T, id string) { s.send(t, "GET", "/api/products/"+url.PathEscape(id), "") })
}

// catalogTotal is the catalog's size as the product service lists it now
// (a query of its own, which the edge cache has never answered).
func catalogTotal(t *testing.T, gw client) float64 {
	r := gw.do("GET", fmt.Sprintf("/api/products?limit=1&maxPrice=%d", 1_000_000_000+time.Now().UnixNano()%1_000_000), "")
	expect(t, "catalog total", r, 200)
	return r.body["total"].(float64)
}

func FuzzCreateProduct(f *testing.F) {
	s := fuzzing(f)
	f.Add(`{"name":"Lamp","category":"home","price":{"amount":100,"currency":"EUR"},"stock":3}`)
	f.Add(`{"name":"","price":{"amount":-1,"currency":"EURO"},"stock":-5}`)
	f.Add(`{"name":"x","category":"home","price":{"amount":1e30,"currency":"EUR"}}`)
	f.Fuzz(func(t *testing.T, body string) {
		// What a refused create stored is counted by TestFuzzRoutes around
		// the whole run: the catalog lists a write only after its refresh.
		status, created := s.send(t, "POST", "/api/products", body, "Authorization", s.admin)
		if !refused(status) {
			if id, _ := created["id"].(string); id != "" {
				s.send(t, "DELETE", "/api/products/"+id, "", "Authorization", s.admin)
			}
		}
	})
}

func FuzzReplaceProduct(f *testing.F) {
	s := fuzzing(f)
	f.Add(`{"name":"Kettle","category":"kitchen","price":{"amount":1200,"currency":"EUR"}}`)
	f.Add(`{"name":"","price":{"amount":-1}}`)
	f.Add(`{"stock":-1}`)
	f.Fuzz(func(t *testing.T, body string) {
		fresh := func() map[string]any {
			status, p := s.send(t, "GET", "/api/products/"+s.product+"?fresh="+fmt.Sprint(time.Now().UnixNano()), "")
			if status != http.StatusOK {
				t.Fatalf("the product's read answered %d: %v", status, p)
			}
			return p
		}
		before := fresh()
		status, answer := s.send(t, "PUT", "/api/products/"+s.product, body, "Authorization", s.admin)
		if after := fresh(); refused(status) && fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("a refused replace (%d %v) of %q changed the product: %v -> %v", status, answer, body, before, after)
		}
	})
}

func FuzzPlaceOrder(f *testing.F) {
	s := fuzzing(f)
	f.Add(`{"lines":[{"productId":"demo-00001","quantity":1}],"paymentMethod":"tok_visa"}`, "key-1")
	f.Add(`{"lines":[],"paymentMethod":""}`, "")
	f.Add(`{"lines":[{"productId":"x","quantity":-3}]}`, "k")
	f.Add(`{"lines":[{"productId":"demo-00001","quantity":1e9}],"paymentMethod":"tok_visa"}`, "key-2")
	f.Fuzz(func(t *testing.T, body, key string) {
		_, me := s.send(t, "GET", "/api/users/me", "", "Authorization", s.customer)
		id, _ := me["id"].(string)
		count := func() float64 {
			_, page := s.send(t, "GET", "/api/orders/user/"+id+"?limit=1", "", "Authorization", s.customer)
			n, _ := page["total"].(float64)
			return n
		}
		before := count()
		status, _ := s.send(t, "POST", "/api/orders", body, "Authorization", s.customer, "Idempotency-Key", key)
		if after := count(); refused(status) && after != before {
			t.Fatalf("a refused order (%d) was stored: %v orders -> %v", status, before, after)
		}
	})
}

func FuzzGetOrder(f *testing.F) {
	s := fuzzing(f)
	f.Add("0192")
	f.Add("../users/me")
	f.Fuzz(func(t *testing.T, id string) {
		s.send(t, "GET", "/api/orders/"+url.PathEscape(id), "", "Authorization", s.customer)
	})
}

func FuzzCancelOrder(f *testing.F) {
	s := fuzzing(f)
	f.Add("0192", `{}`)
	f.Add("x", `{"reason":1}`)
	f.Fuzz(func(t *testing.T, id, body string) {
		s.send(t, "POST", "/api/orders/"+url.PathEscape(id)+"/cancel", body, "Authorization", s.customer)
	})
}

func FuzzReplayDeadLetter(f *testing.F) {
	s := fuzzing(f)
	f.Add("order.paid/o-1")
	f.Add("%2e%2e")
	f.Fuzz(func(t *testing.T, id string) {
		s.send(t, "POST", "/api/admin/deadletters/"+url.PathEscape(id)+"/replay", "", "Authorization", s.admin)
	})
}

// The reviews routes reach the Node.js service: the same edge contract.
func FuzzListReviews(f *testing.F) {
	s := fuzzing(f)
	f.Add(s.product, "limit=5")
	f.Add("..", "cursor=%%%")
	f.Add("demo-00001", "limit=0&cursor=eyJ9")
	f.Add("x", "limit=1e3&limit=2")
	f.Fuzz(func(t *testing.T, id, query string) {
		s.send(t, "GET", "/api/products/"+url.PathEscape(id)+"/reviews?"+query, "")
	})
}

// FuzzWriteReview writes as the customer, who has received nothing: every
// write must be refused, and none stored.
func FuzzWriteReview(f *testing.F) {
	s := fuzzing(f)
	f.Add(`{"rating":5,"title":"Great","body":"Boils fast."}`)
	f.Add(`{"rating":9,"title":""}`)
	f.Add(`{"rating":"5","title":1,"extra":true}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, body string) {
		path := "/api/products/" + s.product + "/reviews"
		if status, answer := s.send(t, "PUT", path+"/mine", body, "Authorization", s.customer); !refused(status) {
			t.Fatalf("a buyer who received nothing wrote a review (%d): %v", status, answer)
		}
		if status, page := s.send(t, "GET", path, ""); status != http.StatusOK || page["total"] != 0.0 {
			t.Fatalf("after a refused review of %q the product's reviews read %d %v", body, status, page)
		}
	})
}
