package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/daprshop/platform/bootstrap"
	"github.com/daprshop/platform/daprtest"
	"github.com/daprshop/platform/events"
	"github.com/daprshop/platform/identity"
	"github.com/daprshop/platform/token"
	"github.com/daprshop/user/service"
)

// TestUserServiceThroughSidecar runs the real service beside a real daprd
// (Redis state and pub/sub, file secret store, the repository's sidecar
// Configuration) and calls it the way the gateway does: through service
// invocation.
func TestUserServiceThroughSidecar(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts daprd")
	}
	root := daprtest.RepoRoot(t)
	redis := daprtest.Redis(t)
	run := uuid.NewString()[:8]
	appID := "user" // the repository's Configuration and secret scopes name this app

	privPEM, pubPEM, err := token.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	secrets := filepath.Join(t.TempDir(), "secrets.json")
	adminPassword := "bootstrap-" + run + "-7"
	b, _ := json.Marshal(map[string]string{"jwt-signing-key": string(privPEM), "jwt-public-key": string(pubPEM), "admin-password": adminPassword})
	if err := os.WriteFile(secrets, b, 0o600); err != nil {
		t.Fatal(err)
	}
	resources := []string{
		daprtest.RepoComponent(t, "components/user-store.yaml", "user-it-"+run),
		daprtest.RedisPubSub(t, redis),
		fmt.Sprintf(`
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: secretstore}
spec:
  type: secretstores.local.file
  version: v1
  metadata:
    - {name: secretsFile, value: "%s"}
`, secrets),
	}
	config, err := os.ReadFile(filepath.Join(root, "dapr-config", "user.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	inbox := daprtest.Subscribe(t, "user-it-sub-"+run, "pubsub", []string{events.TopicUserRegistered},
		daprtest.Options{Resources: resources[1:2]})

	adminEmail := "root-" + run + "@example.com"
	t.Setenv("ADMIN_EMAIL", adminEmail)
	t.Setenv("LOGIN_MAX_FAILURES", "3")
	t.Setenv("LOGIN_FAILURE_WINDOW", "3s")
	var cfg service.Config
	sc := daprtest.StartApp(t, daprtest.Options{AppID: appID, Resources: resources, Config: string(config)},
		func(ctx context.Context) error {
			if err := bootstrap.Load(&cfg, service.Name, service.Port); err != nil {
				return err
			}
			return service.Run(ctx, &cfg, zap.NewNop())
		})
	appPort := os.Getenv("APP_PORT")

	invoke := func(method, path, body string, who *identity.Principal) (int, map[string]any) {
		req, _ := http.NewRequest(method, sc.HTTPBase()+"/v1.0/invoke/"+appID+"/method"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if who != nil {
			identity.Set(req.Header, *who)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	email := "ann-" + run + "@example.com"

	t.Run("the app refuses calls that bypass its sidecar", func(t *testing.T) {
		resp, err := http.Post("http://127.0.0.1:"+appPort+"/users/register", "application/json",
			strings.NewReader(`{"email":"x@example.com","name":"X","password":"correct-horse-42"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("direct call: %d, want 401", resp.StatusCode)
		}
	})

	var userID string
	t.Run("concurrent registrations of one email create one account", func(t *testing.T) {
		const n = 20
		codes := make(chan int, n)
		ids := make(chan string, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, body := invoke("POST", "/users/register", `{"email":"`+strings.ToUpper(email)+`","name":"Ann","password":"correct-horse-42"}`, nil)
				codes <- code
				if code == http.StatusCreated {
					ids <- body["id"].(string)
				}
			}()
		}
		wg.Wait()
		close(codes)
		close(ids)
		count := map[int]int{}
		for c := range codes {
			count[c]++
		}
		if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
			t.Fatalf("statuses %v, want one 201 and %d 409", count, n-1)
		}
		userID = <-ids
	})

	t.Run("login issues a token the gateway's public key verifies", func(t *testing.T) {
		code, body := invoke("POST", "/users/login", `{"email":"`+email+`","password":"correct-horse-42"}`, nil)
		if code != http.StatusOK {
			t.Fatalf("login: %d %v", code, body)
		}
		pub, _ := token.ParsePublicKey(pubPEM)
		claims, err := token.NewVerifier(pub, cfg.TokenIssuer, cfg.TokenAudience).Verify(body["accessToken"].(string))
		if err != nil || claims.Subject != userID || claims.Role != identity.RoleCustomer {
			t.Fatalf("claims %+v, %v", claims, err)
		}
	})

	t.Run("the bootstrap admin logs in with the secret's password", func(t *testing.T) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, body := invoke("POST", "/users/login", `{"email":"`+adminEmail+`","password":"`+adminPassword+`"}`, nil)
			if code == http.StatusOK {
				if role := body["user"].(map[string]any)["role"]; role != identity.RoleAdmin {
					t.Fatalf("bootstrap admin role %v", role)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("bootstrap admin login: %d %v", code, body)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})

	t.Run("refresh tokens rotate in the state store and a replay ends the session", func(t *testing.T) {
		_, first := invoke("POST", "/users/login", `{"email":"`+email+`","password":"correct-horse-42"}`, nil)
		code, second := invoke("POST", "/users/refresh", `{"refreshToken":"`+first["refreshToken"].(string)+`"}`, nil)
		if code != http.StatusOK || second["refreshToken"] == first["refreshToken"] {
			t.Fatalf("refresh: %d %v", code, second)
		}
		if code, _ := invoke("POST", "/users/refresh", `{"refreshToken":"`+first["refreshToken"].(string)+`"}`, nil); code != http.StatusUnauthorized {
			t.Fatalf("replayed refresh token: %d", code)
		}
		if code, _ := invoke("POST", "/users/refresh", `{"refreshToken":"`+second["refreshToken"].(string)+`"}`, nil); code != http.StatusUnauthorized {
			t.Fatalf("the rotated token after a replay: %d", code)
		}
	})

	t.Run("failed logins are counted in the state store", func(t *testing.T) {
		bad := `{"email":"` + email + `","password":"wrong-horse-42"}`
		for range 3 {
			if code, _ := invoke("POST", "/users/login", bad, nil); code != http.StatusUnauthorized {
				t.Fatalf("wrong password: %d", code)
			}
		}
		good := `{"email":"` + email + `","password":"correct-horse-42"}`
		if code, body := invoke("POST", "/users/login", good, nil); code != http.StatusTooManyRequests {
			t.Fatalf("right password inside the window: %d %v", code, body)
		}
		time.Sleep(3 * time.Second)
		if code, body := invoke("POST", "/users/login", good, nil); code != http.StatusOK {
			t.Fatalf("after the window: %d %v", code, body)
		}
	})

	t.Run("me with the identity the gateway forwards", func(t *testing.T) {
		code, body := invoke("GET", "/users/me", "", &identity.Principal{UserID: userID, Role: identity.RoleCustomer})
		if code != http.StatusOK || body["email"] != email {
			t.Fatalf("me: %d %v", code, body)
		}
	})

	t.Run("user.registered reaches a subscriber", func(t *testing.T) {
		ce := inbox.Wait(t, 20*time.Second, func(e daprtest.CloudEvent) bool { return e.Subject == userID })
		var data events.UserRegistered
		if err := json.Unmarshal(ce.Data, &data); err != nil {
			t.Fatal(err)
		}
		if ce.ID != "user.registered/"+userID || ce.Source != "user" || data.Email != email || data.UserID != userID {
			t.Errorf("event %+v, data %+v", ce, data)
		}
	})
}
