package e2e

import (
	"bufio"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/daprshop/devrun/runner"
)

// account is a registered, logged-in customer.
type account struct {
	id, email, password, bearer, refresh string
}

func newAccount(t *testing.T, gw client) account {
	t.Helper()
	a := account{email: "acct-" + uuid.NewString()[:8] + "@example.com", password: "correct-horse-42"}
	r := gw.do("POST", "/api/users/register", `{"email":"`+a.email+`","name":"Acct","password":"`+a.password+`"}`)
	expect(t, "register", r, 201)
	a.id = r.body["id"].(string)
	a.login(t, gw)
	return a
}

func (a *account) login(t *testing.T, gw client) {
	t.Helper()
	r := gw.do("POST", "/api/users/login", `{"email":"`+a.email+`","password":"`+a.password+`"}`)
	expect(t, "login "+a.email, r, 200)
	a.bearer = "Bearer " + r.body["accessToken"].(string)
	a.refresh = r.body["refreshToken"].(string)
}

// refusedWithin polls with the token until the gateway answers 401, and
// fails unless that happens within 5 s of the change.
func refusedWithin(t *testing.T, gw client, bearer string, since time.Time) {
	t.Helper()
	for {
		r := gw.do("GET", "/api/users/me", "", "Authorization", bearer)
		if r.status == 401 {
			t.Logf("old token refused %s after the change", time.Since(since).Round(10*time.Millisecond))
			return
		}
		if r.status != 200 && r.status != 404 {
			t.Fatalf("while waiting for the token to be refused: %d %s", r.status, r.raw)
		}
		if time.Since(since) > 5*time.Second {
			t.Fatalf("the old token still works %s after the change", time.Since(since).Round(time.Millisecond))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// accounts checks the account boundaries end to end: sessions that end when
// they should, the bootstrap admin, input that cannot reach headers or
// other paths. Throttling runs last: it blocks the test's own address.
func accounts(t *testing.T, run *runner.Run, gw client) {
	admin := loginAdmin(t, run, gw)

	t.Run("registering the bootstrap admin's address or any other gives no admin", func(t *testing.T) {
		expect(t, "register the admin address", gw.do("POST", "/api/users/register",
			`{"email":"`+strings.ToUpper(runner.AdminEmail)+`","name":"Mallory","password":"correct-horse-42"}`), 409)
		r := gw.do("POST", "/api/users/register", `{"email":"admin-`+uuid.NewString()[:8]+`@daprshop.local","name":"Mallory","password":"correct-horse-42"}`)
		expect(t, "register", r, 201)
		if r.body["role"] != "customer" {
			t.Errorf("a registration got role %v", r.body["role"])
		}
	})

	t.Run("a demoted admin's token stops working", func(t *testing.T) {
		a := newAccount(t, gw)
		expect(t, "promote", gw.do("PUT", "/api/users/"+a.id, `{"role":"admin"}`, "Authorization", admin), 200)
		a.login(t, gw)
		expect(t, "the promoted token works", gw.do("GET", "/api/users/"+uuid.NewString(), "", "Authorization", a.bearer), 404)
		expect(t, "demote", gw.do("PUT", "/api/users/"+a.id, `{"role":"customer"}`, "Authorization", admin), 200)
		refusedWithin(t, gw, a.bearer, time.Now())
		// The attack of the issue: make yourself admin again with the old token.
		expect(t, "re-promotion with the old token", gw.do("PUT", "/api/users/"+a.id, `{"role":"admin"}`, "Authorization", a.bearer), 401)
		expect(t, "refresh of the old session", gw.do("POST", "/api/users/refresh", `{"refreshToken":"`+a.refresh+`"}`), 401)
	})

	t.Run("a password change ends earlier sessions", func(t *testing.T) {
		a := newAccount(t, gw)
		expect(t, "change password", gw.do("PUT", "/api/users/"+a.id, `{"password":"another-horse-43","currentPassword":"`+a.password+`"}`,
			"Authorization", a.bearer), 200)
		refusedWithin(t, gw, a.bearer, time.Now())
		a.password = "another-horse-43"
		a.login(t, gw)
		expect(t, "a new session", gw.do("GET", "/api/users/me", "", "Authorization", a.bearer), 200)
	})

	t.Run("logout ends the session and its refresh token", func(t *testing.T) {
		a := newAccount(t, gw)
		r := gw.do("POST", "/api/users/refresh", `{"refreshToken":"`+a.refresh+`"}`)
		expect(t, "refresh", r, 200)
		fresh := "Bearer " + r.body["accessToken"].(string)
		expect(t, "the refreshed token works", gw.do("GET", "/api/users/me", "", "Authorization", fresh), 200)
		expect(t, "logout", gw.do("POST", "/api/users/logout", "", "Authorization", fresh), 204)
		at := time.Now()
		refusedWithin(t, gw, fresh, at)
		refusedWithin(t, gw, a.bearer, at)
		expect(t, "refresh after logout", gw.do("POST", "/api/users/refresh", `{"refreshToken":"`+r.body["refreshToken"].(string)+`"}`), 401)
	})

	t.Run("a deleted account's token stops working", func(t *testing.T) {
		a := newAccount(t, gw)
		expect(t, "delete", gw.do("DELETE", "/api/users/"+a.id, "", "Authorization", a.bearer), 204)
		refusedWithin(t, gw, a.bearer, time.Now())
	})

	t.Run("no name can add an email header", func(t *testing.T) {
		email := "eve-" + uuid.NewString()[:8] + "@example.com"
		r := gw.do("POST", "/api/users/register", `{"email":"`+email+`","name":"Eve\r\nBcc: thief@example.com","password":"correct-horse-42"}`)
		expect(t, "CR/LF in a name", r, 400)
		if !strings.Contains(r.raw, `"name"`) || !strings.Contains(r.raw, "line breaks") {
			t.Errorf("no field message for name: %s", r.raw)
		}
		// Line and paragraph separators are not control characters: they
		// are stored, and must still not make a header.
		expect(t, "register", gw.do("POST", "/api/users/register", `{"email":"`+email+`","name":"Eve\u2028Bcc: thief@example.com\u2029X: y","password":"correct-horse-42"}`), 201)
		box, ok := mailboxOf(run).(outbox)
		if !ok {
			t.Skip("the run's email goes to an SMTP server; the outbox profile checks the headers")
		}
		waitEmails(t, box, email, "user.registered")
		headers := emailHeaders(t, box.dir, email)
		want := []string{"Content-Type", "From", "Mime-Version", "Subject", "To"}
		if !slices.Equal(headers, want) {
			t.Errorf("welcome email headers %v, want exactly %v", headers, want)
		}
	})

	t.Run("an ID cannot name another path", func(t *testing.T) {
		buyer := newShopper(t, gw)
		for _, path := range []string{
			"/api/products/..%2Finventory%2Freservations%2Fx",
			"/api/products/%2e%2e",
			"/api/products/..",
			"/api/orders/..%2F..%2Fusers%2Fme",
			"/api/users/..%5Cme",
		} {
			r := gw.do("GET", path, "", "Authorization", buyer.bearer)
			if r.status != 400 || !strings.Contains(r.raw, `"field":"id"`) {
				t.Errorf("GET %s: %d %s, want 400 with a field message", path, r.status, r.raw)
			}
		}
		r := buyer.order("traversal-"+uuid.NewString()[:8], "card", line("../inventory/reservations/x", 1))
		if r.status != 400 || !strings.Contains(r.raw, "productId") {
			t.Errorf("a product ID with ../ in an order: %d %s", r.status, r.raw)
		}
	})

	t.Run("failed logins are throttled per account and per address", func(t *testing.T) {
		a := newAccount(t, gw)
		wrong := `{"email":"` + a.email + `","password":"wrong-horse-99"}`
		codes := map[int]int{}
		var last response
		for range 20 {
			last = gw.do("POST", "/api/users/login", wrong)
			codes[last.status]++
		}
		if codes[401] != 10 || codes[429] != 10 {
			t.Fatalf("20 wrong passwords: %v, want 10× 401 then 10× 429", codes)
		}
		retry, err := strconv.Atoi(last.header.Get("Retry-After"))
		if err != nil || retry < 1 {
			t.Fatalf("429 without a usable Retry-After: %q", last.header.Get("Retry-After"))
		}
		right := `{"email":"` + a.email + `","password":"` + a.password + `"}`
		expect(t, "the right password inside the window", gw.do("POST", "/api/users/login", right), 429)
		time.Sleep(time.Duration(retry)*time.Second + 200*time.Millisecond)
		expect(t, "the right password after the window", gw.do("POST", "/api/users/login", right), 200)
	})
}

// emailHeaders are the header names of the email sent to `to`.
func emailHeaders(t *testing.T, dir, to string) []string {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), to+"__") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		m, err := mail.ReadMessage(bufio.NewReader(f))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for k := range m.Header {
			names = append(names, k)
		}
		slices.Sort(names)
		return names
	}
	t.Fatalf("no email to %s in %s", to, dir)
	return nil
}
