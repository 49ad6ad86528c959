package runner_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/daprshop/devrun/runner"
	"github.com/daprshop/platform/freeport"
)

// readmeDaprRun returns the folder and the `dapr run` arguments of the
// README's single-service example (between the dapr-run-single markers).
func readmeDaprRun(t *testing.T, root string) (string, []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start, end := strings.Index(s, "<!-- dapr-run-single -->"), strings.Index(s, "<!-- /dapr-run-single -->")
	if start < 0 || end < start {
		t.Fatal("README.md has no <!-- dapr-run-single --> example")
	}
	block := strings.ReplaceAll(s[start:end], "\\\n", " ")
	dir := root
	var args []string
	sc := bufio.NewScanner(strings.NewReader(block))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "cd":
			dir = filepath.Join(dir, f[1])
		case len(f) > 2 && f[0] == "dapr" && f[1] == "run":
			args = f[2:]
		}
	}
	if args == nil {
		t.Fatal("no `dapr run` line in the README's example")
	}
	return dir, args
}

// cliEnv sets, for this test, what `. secrets/dapr-cli.env` sets in a
// shell (bash sources it, so quoting and multi-line values are a shell's).
func cliEnv(t *testing.T, root string) {
	t.Helper()
	if err := runner.EnsureDevSecrets(root, io.Discard); err != nil {
		t.Fatal(err)
	}
	before := map[string]bool{}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		before[k] = true
	}
	out, err := exec.Command("bash", "-c", ". "+filepath.Join(root, runner.CLIEnvFile)+" && env -0").Output()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, kv := range strings.Split(string(out), "\x00") {
		k, v, ok := strings.Cut(kv, "=")
		if ok && (strings.HasPrefix(k, "DAPR") || strings.HasPrefix(k, "APP_")) {
			t.Setenv(k, v)
			n++
		}
	}
	if n < 5 {
		t.Fatalf("%s set %d DAPR*/APP_* variables", runner.CLIEnvFile, n)
	}
}

// The README's `dapr run` for one service, run the way the Dapr CLI runs
// it: its flags mapped to daprd's and the app's environment by the CLI's
// rules, in the service's folder, with secrets/dapr-cli.env in the
// environment. Only the ports (free ones, so `make run` may go on beside)
// and the control plane's address (one of the test's own) differ.
func TestReadmeDaprRunForOneService(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a sidecar and a service")
	}
	root, _ := filepath.Abs(filepath.Join("..", "..", ".."))
	dir, args := readmeDaprRun(t, root)
	cliEnv(t, root)
	app, err := runner.ParseDaprRun(dir, args)
	if err != nil {
		t.Fatalf("dapr run %s: %v", strings.Join(args, " "), err)
	}
	if app.AppID != "user" || app.ConfigFilePath != filepath.Join(root, "dapr-config", "user.yaml") ||
		len(app.ResourcesPaths) != 2 || app.ResourcesPaths[0] != filepath.Join(root, "components") {
		t.Fatalf("parsed %+v", app)
	}

	out := &runner.Buffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cp, err := runner.Start(ctx, runner.Options{RunFile: filepath.Join(root, "dapr.yaml"), NoApps: true, FreePorts: true, StateDir: t.TempDir(), Out: out})
	if err != nil {
		t.Fatalf("control plane: %v\n%s", err, out)
	}
	t.Cleanup(cp.Stop)
	for _, p := range []*int{&app.AppPort, &app.DaprHTTPPort, &app.DaprGRPCPort, &app.DaprInternalGRPCPort, &app.MetricsPort} {
		if *p, err = freeport.Pick(); err != nil {
			t.Fatal(err)
		}
	}
	app.PlacementHostAddress = cp.PlacementAddress()
	app.SentryAddress = cp.SentryAddress()
	sched := cp.SchedulerAddress()
	app.SchedulerHostAddress = &sched
	run, err := runner.StartDaprRun(ctx, root, app, t.TempDir(), true, out)
	if err != nil {
		t.Fatalf("dapr run: %v\n%s", err, out)
	}
	t.Cleanup(run.Stop)

	// Through the sidecar, as the gateway would: register, then log in
	// (which needs the signing key from the secret store found via envRef).
	email := "cli-" + uuid.NewString()[:8] + "@example.com"
	invoke := func(path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, run.SidecarURL("user")+"/v1.0/invoke/user/method"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("dapr-api-token", os.Getenv("DAPR_API_TOKEN"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if code, m := invoke("/users/register", `{"email":"`+email+`","name":"Cli","password":"correct-horse-42"}`); code != 201 {
		t.Fatalf("register: %d %v\n%s", code, m, out)
	}
	if code, m := invoke("/users/login", `{"email":"`+email+`","password":"correct-horse-42"}`); code != 200 || m["accessToken"] == nil {
		t.Fatalf("login: %d %v\n%s", code, m, out)
	}
}
