// Package e2e brings the whole topology up the way `make run` does and
// exercises it through the gateway only, as a client would.
package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/daprshop/devrun/runner"
	"github.com/daprshop/platform/daprtest"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/token"
)

type client struct {
	t    *testing.T
	base string
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (c client) do(method, path, body string, headers ...string) response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	checkAnswer(c.t, req, resp.StatusCode, resp.Header, b)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	_ = json.Unmarshal(b, &r.body)
	return r
}

func expect(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.raw)
	}
	if status >= 400 && r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s: error answered as %q, want application/problem+json", what, r.header.Get("Content-Type"))
	}
}

func TestThroughTheGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the whole topology")
	}
	root := daprtest.RepoRoot(t)
	// Free ports and a state folder of its own, so a `make run` may go on beside it.
	run := startRun(t, root, nil, nil)
	// Once the test is done, and before the run stops: every event it
	// caused, as published, against its schema.
	t.Cleanup(func() { checkPublishedEvents(t, run) })

	// An app the pub/sub scopes do not name, on the repository's pub/sub
	// component: every topic is protected, so it must get nothing.
	intruder := "e2e-intruder-" + uuid.NewString()[:8]
	inbox := daprtest.Subscribe(t, intruder, "pubsub", []string{events.TopicUserRegistered},
		daprtest.Options{ResourcesDirs: run.ResourcesPaths("user")})

	gw := client{t: t, base: run.AppURL("gateway")}
	email := "e2e-" + uuid.NewString()[:8] + "@example.com"
	creds := `{"email":"` + email + `","password":"correct-horse-42"}`

	r := gw.do("POST", "/api/users/register", `{"email":"`+email+`","name":"Eve","password":"correct-horse-42"}`)
	expect(t, "register", r, 201)
	userID := r.body["id"].(string)
	if r.header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-ID on the response")
	}

	expect(t, "duplicate email", gw.do("POST", "/api/users/register", `{"email":"`+strings.ToUpper(email)+`","name":"Eve","password":"correct-horse-42"}`), 409)

	r = gw.do("POST", "/api/users/register", `{"email":"not-an-email","name":"","password":"123"}`)
	expect(t, "invalid fields", r, 400)
	if errs, _ := r.body["errors"].([]any); len(errs) != 3 {
		t.Errorf("want 3 field errors, got %v", r.body["errors"])
	}

	expect(t, "wrong password", gw.do("POST", "/api/users/login", `{"email":"`+email+`","password":"wrong-horse-42"}`), 401)
	r = gw.do("POST", "/api/users/login", creds)
	expect(t, "login", r, 200)
	tok := r.body["accessToken"].(string)
	bearer := "Bearer " + tok

	r = gw.do("GET", "/api/users/me", "", "Authorization", bearer)
	expect(t, "me", r, 200)
	if r.body["id"] != userID || r.body["email"] != email {
		t.Errorf("me = %v", r.body)
	}
	if strings.Contains(r.raw, "argon2") || strings.Contains(r.raw, "password") {
		t.Errorf("credentials leaked: %s", r.raw)
	}

	t.Run("401 without a token", func(t *testing.T) {
		expect(t, "no token", gw.do("GET", "/api/users/me", ""), 401)
	})
	t.Run("401 with forged tokens", func(t *testing.T) {
		privPEM, _, _ := token.GenerateKeyPair()
		otherKey, _ := token.ParsePrivateKey(privPEM)
		forged, _, _ := token.NewIssuer(otherKey, "daprshop-user", "daprshop", time.Hour).Issue(token.Subject{ID: userID, Role: "admin", Email: email})
		expect(t, "signed by another key", gw.do("GET", "/api/users/me", "", "Authorization", "Bearer "+forged), 401)

		none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
			base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"`+userID+`","role":"admin","iss":"daprshop-user","aud":"daprshop","exp":9999999999}`)) + "."
		expect(t, "alg none", gw.do("GET", "/api/users/me", "", "Authorization", "Bearer "+none), 401)

		parts := strings.Split(tok, ".")
		expect(t, "malformed", gw.do("GET", "/api/users/me", "", "Authorization", "Bearer "+parts[0]+"."+parts[1]), 401)

		// Signed with the real key, but expired.
		secrets, err := os.ReadFile(filepath.Join(root, runner.DevSecretsFile))
		if err != nil {
			t.Fatal(err)
		}
		var s map[string]string
		_ = json.Unmarshal(secrets, &s)
		key, err := token.ParsePrivateKey([]byte(s["jwt-signing-key"]))
		if err != nil {
			t.Fatal(err)
		}
		expired, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
			"sub": userID, "role": "customer", "iss": "daprshop-user", "aud": "daprshop",
			"iat": time.Now().Add(-3 * time.Hour).Unix(), "exp": time.Now().Add(-2 * time.Hour).Unix(),
		}).SignedString(key)
		expect(t, "expired", gw.do("GET", "/api/users/me", "", "Authorization", "Bearer "+expired), 401)
	})
	t.Run("identity headers from the client are ignored", func(t *testing.T) {
		expect(t, "headers without a token", gw.do("GET", "/api/users/me", "", "X-User-Id", userID, "X-User-Role", "admin"), 401)
		r := gw.do("GET", "/api/users/me", "", "Authorization", bearer, "X-User-Id", "someone-else", "X-User-Role", "admin")
		expect(t, "headers with a token", r, 200)
		if r.body["id"] != userID {
			t.Errorf("a client header chose the identity: %v", r.body)
		}
		expect(t, "someone else's account", gw.do("GET", "/api/users/"+uuid.NewString(), "", "Authorization", bearer, "X-User-Role", "admin"), 403)
	})
	t.Run("user.registered reaches the notifier and no one else", func(t *testing.T) {
		waitEmails(t, mailboxOf(run), email, events.TopicUserRegistered)
		if n := inbox.Received(); n != 0 {
			t.Errorf("an app outside subscriptionScopes received %d events", n)
		}
	})
	admin := catalog(t, run, gw, bearer)
	checkout(t, run, gw, admin)
	t.Run("every metric of the dashboard is exported", func(t *testing.T) { dashboardMetrics(t, run, root) })
	t.Run("a checkout's calls carry the request that placed it", func(t *testing.T) { checkoutKeepsItsOrigin(t, run, gw, admin) })

	t.Run("update and delete the account", func(t *testing.T) {
		r := gw.do("PUT", "/api/users/"+userID, `{"name":"Eve Two"}`, "Authorization", bearer)
		expect(t, "rename", r, 200)
		if r.body["name"] != "Eve Two" {
			t.Errorf("renamed = %v", r.body)
		}
		expect(t, "delete", gw.do("DELETE", "/api/users/"+userID, "", "Authorization", bearer), 204)
		expect(t, "login after delete", gw.do("POST", "/api/users/login", creds), 401)
	})
}
