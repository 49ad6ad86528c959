package e2e

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/daprshop/devrun/runner"
	"github.com/daprshop/platform/daprtest"
)

// sidecarCall calls an app's sidecar API as a local process would, with the
// given API token ("" for none).
func sidecarCall(t *testing.T, run *runner.Run, app, method, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, run.SidecarURL(app)+path, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("dapr-api-token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTheBoundaryBehindTheGateway probes a run as a process on the same
// host would: sidecars refuse callers without their API token, apps refuse
// callers without their app token, sidecars refuse invocations their app's
// access policy does not allow (by the caller's mTLS identity), and nothing
// listens on the network.
func TestTheBoundaryBehindTheGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the whole topology")
	}
	root := daprtest.RepoRoot(t)
	// A short login-failure window, so the throttling test can outwait it.
	run := startRun(t, root, nil, nil, map[string]map[string]string{"user": {"LOGIN_FAILURE_WINDOW": "5s"}})
	apps := []string{"gateway", "user", "product", "order", "payment", "notification"}

	t.Run("a sidecar's API needs its app's token", func(t *testing.T) {
		for _, app := range apps {
			if code, body := sidecarCall(t, run, app, "GET", "/v1.0/metadata", ""); code != http.StatusUnauthorized {
				t.Errorf("%s sidecar without a token: %d %s", app, code, body)
			}
			if code, _ := sidecarCall(t, run, app, "GET", "/v1.0/metadata", run.APIToken("order")); app != "order" && code != http.StatusUnauthorized {
				t.Errorf("%s sidecar with the order app's token: %d", app, code)
			}
			if code, body := sidecarCall(t, run, app, "GET", "/v1.0/metadata", run.APIToken(app)); code != http.StatusOK {
				t.Errorf("%s sidecar with its token: %d %s", app, code, body)
			}
		}
		// Every API, not only metadata: state, invocation, publishing, workflows.
		for _, c := range []struct{ app, method, path string }{
			{"user", "GET", "/v1.0/state/user-store/user|x"},
			{"user", "POST", "/v1.0/invoke/user/method/users/register"},
			{"order", "POST", "/v1.0/invoke/payment/method/payments"},
			{"user", "POST", "/v1.0/publish/pubsub/user.updated"},
			{"order", "GET", "/v1.0/workflows/dapr/any-order"},
			{"product", "GET", "/v1.0-alpha1/jobs/reservation-expiry-x"},
		} {
			if code, body := sidecarCall(t, run, c.app, c.method, c.path, ""); code != http.StatusUnauthorized {
				t.Errorf("%s sidecar %s %s without a token: %d %.120s", c.app, c.method, c.path, code, body)
			}
		}
		// The probe that read the JWT signing key before.
		if code, body := sidecarCall(t, run, "user", "GET", "/v1.0/secrets/secretstore/jwt-signing-key", ""); code != http.StatusUnauthorized || strings.Contains(body, "PRIVATE KEY") {
			t.Errorf("the signing key without a token: %d %.80s", code, body)
		}
	})

	t.Run("an app needs its sidecar's token", func(t *testing.T) {
		for _, app := range apps {
			if app == "gateway" {
				continue // public: it checks bearer tokens instead
			}
			req, _ := http.NewRequest("GET", run.AppURL(app)+"/metrics", nil)
			req.URL.Path = "/anything"
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s app without the token: %d", app, resp.StatusCode)
			}
		}
	})

	t.Run("access policies decide who invokes what", func(t *testing.T) {
		denied := []struct{ from, to, method, path string }{
			{"gateway", "product", "POST", "/inventory/reservations"},
			{"notification", "payment", "POST", "/payments"},
			{"product", "payment", "GET", "/payments/any"},
			{"gateway", "product", "POST", "/job/reservation-expiry-x"},
			{"gateway", "notification", "POST", "/events/order.paid"},
			{"order", "user", "DELETE", "/users/any"},
		}
		for _, c := range denied {
			code, body := sidecarCall(t, run, c.from, c.method, "/v1.0/invoke/"+c.to+"/method"+c.path, run.APIToken(c.from))
			if code != http.StatusForbidden || !strings.Contains(body, "access control policy has denied access") {
				t.Errorf("%s -> %s %s %s: %d %s, want 403 from the access policy", c.from, c.to, c.method, c.path, code, body)
			}
		}
		allowed := []struct{ from, to, method, path string }{
			{"order", "payment", "GET", "/payments/none"},
			{"order", "product", "GET", "/inventory/reservations/none"},
			{"gateway", "product", "GET", "/products/none"},
			{"order", "user", "GET", "/users/none"},
		}
		for _, c := range allowed {
			code, body := sidecarCall(t, run, c.from, c.method, "/v1.0/invoke/"+c.to+"/method"+c.path, run.APIToken(c.from))
			if strings.Contains(body, "access control policy") || code/100 == 5 {
				t.Errorf("%s -> %s %s %s: %d %s, want the app's own answer", c.from, c.to, c.method, c.path, code, body)
			}
		}
	})

	t.Run("only a topic's owner publishes it", func(t *testing.T) {
		denied := []struct{ app, topic string }{
			{"product", "order.paid"}, {"notification", "user.updated"}, {"order", "payment.completed"}, {"user", "deadletters"},
		}
		for _, c := range denied {
			code, body := sidecarCall(t, run, c.app, "POST", "/v1.0/publish/pubsub/"+c.topic, run.APIToken(c.app))
			if code != http.StatusForbidden || !strings.Contains(body, "ERR_PUBSUB_FORBIDDEN") {
				t.Errorf("%s publishing %s: %d %s, want 403 from publishingScopes", c.app, c.topic, code, body)
			}
		}
		// The gateway does not even load the component (its scopes).
		if code, body := sidecarCall(t, run, "gateway", "POST", "/v1.0/publish/pubsub/user.registered", run.APIToken("gateway")); code/100 != 4 || !strings.Contains(body, "ERR_PUBSUB_NOT_FOUND") {
			t.Errorf("gateway publishing: %d %s, want the component not found", code, body)
		}
		// No service subscribes to payment.completed: publishing it is harmless.
		if code, body := sidecarCall(t, run, "payment", "POST", "/v1.0/publish/pubsub/payment.completed", run.APIToken("payment")); code != http.StatusNoContent {
			t.Errorf("payment publishing payment.completed: %d %s", code, body)
		}
	})

	t.Run("the gateway's public port shows no metrics or readiness", func(t *testing.T) {
		for _, path := range []string{"/metrics", "/readyz"} {
			resp, err := http.Get(run.AppURL("gateway") + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("public %s: %d", path, resp.StatusCode)
			}
		}
		resp, err := http.Get(run.AppURL("gateway") + "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("public /healthz: %v %v", resp, err)
		}
		resp.Body.Close()
	})

	t.Run("nothing of the run listens beyond loopback", func(t *testing.T) {
		// The one exception: Dapr 1.18.1's control plane binds its healthz
		// port on every interface whatever it is told (dapr/dapr#10394).
		healthz := run.ControlPlaneHealthPorts()
		n := 0
		for name, pid := range run.PIDs() {
			addrs, err := listeningAddrs(pid)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, a := range addrs {
				n++
				if !a.IP.IsLoopback() && a.Port != healthz[name] {
					t.Errorf("%s (pid %d) listens on %s", name, pid, a)
				}
			}
		}
		if n < 30 {
			t.Errorf("only %d listening sockets found: the check cannot see them", n)
		}
		t.Logf("%d listening sockets, all on loopback", n)
	})

	accounts(t, run, client{t: t, base: run.AppURL("gateway")})
}

// listeningAddrs are the TCP addresses a process listens on, from /proc.
func listeningAddrs(pid int) ([]*net.TCPAddr, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var out []*net.TCPAddr
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// local_address rem_address st ... inode
			if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] {
				continue
			}
			a, err := parseProcAddr(fields[1])
			if err != nil {
				f.Close()
				return nil, err
			}
			out = append(out, a)
		}
		f.Close()
	}
	return out, nil
}

// parseProcAddr decodes /proc/net/tcp's "0100007F:1F40" (little-endian words).
func parseProcAddr(s string) (*net.TCPAddr, error) {
	host, port, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("address %q", s)
	}
	raw, err := hex.DecodeString(host)
	if err != nil {
		return nil, err
	}
	ip := make(net.IP, len(raw))
	for i := 0; i < len(raw); i += 4 {
		for j := 0; j < 4; j++ {
			ip[i+j] = raw[i+3-j]
		}
	}
	p, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return nil, err
	}
	return &net.TCPAddr{IP: ip, Port: int(p)}, nil
}
