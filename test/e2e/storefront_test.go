package e2e

import (
	"cmp"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/daprshop/devrun/runner"
	"github.com/daprshop/platform/daprtest"
)

// TestStorefront runs the storefront's browser test (test/browser, Node.js
// with playwright-core driving the machine's Chromium) against a whole
// system: a shopper registers, searches, buys two products and watches the
// order ship; a declined card shows its reason; the buyer reviews what was
// shipped; an admin replays a dead letter this test planted. Screenshots
// of the main pages land in .run/screenshots.
func TestStorefront(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: starts the whole topology and a browser")
	}
	chromium := cmp.Or(os.Getenv("CHROMIUM"), "/usr/bin/chromium")
	if _, err := os.Stat(chromium); err != nil {
		// CI installs it (.ci/run) and sets DAPRSHOP_REQUIRE_BROWSER, so a
		// missing browser fails there instead of passing unseen.
		if os.Getenv("DAPRSHOP_REQUIRE_BROWSER") != "" {
			t.Fatalf("no Chromium at %s: apt-get install chromium", chromium)
		}
		t.Skipf("no Chromium at %s (apt-get install chromium; CHROMIUM=path): the browser test is skipped", chromium)
	}
	root := daprtest.RepoRoot(t)
	dir := filepath.Join(root, "test", "browser")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := runner.NPMInstall(ctx, dir, tWriter{t}); err != nil {
		t.Fatal(err)
	}

	run := startRun(t, root, nil, nil)
	gw := client{t: t, base: run.AppURL("gateway")}
	admin := loginAdmin(t, run, gw)
	password, err := run.AdminPassword()
	if err != nil {
		t.Fatal(err)
	}
	deliveries := configuredDeliveries(t) + 1
	dead := publishPoison(t, run)
	deadLetterOf(t, gw, admin, dead, deliveries)

	shots := filepath.Join(root, ".run", "screenshots")
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", "storefront.test.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "STOREFRONT_URL="+run.AppURL("gateway"), "ADMIN_EMAIL="+runner.AdminEmail,
		"ADMIN_PASSWORD="+password, "DEAD_LETTER_ID="+dead, "SCREENSHOTS="+shots, "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test storefront.test.js:\n%s", out)
	if err != nil {
		t.Fatalf("the browser test failed: %v", err)
	}
	// What the admin's click did, seen from the API.
	if d := deadLetterOf(t, gw, admin, dead, 2*deliveries); d["replays"] != 1.0 {
		t.Errorf("dead letter after the admin's replay: %v", d)
	}
	for _, page := range []string{"catalog", "product", "cart", "order-shipped", "admin-deadletters"} {
		if _, err := os.Stat(filepath.Join(shots, page+".png")); err != nil {
			t.Errorf("screenshot %s: %v", page, err)
		}
	}
}

// tWriter writes to the test's log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
