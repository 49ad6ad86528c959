package daprtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/daprshop/platform/trustbundle"
)

// Sentry is Dapr's certificate authority, run for a test: sidecars started
// with Options.Sentry talk mutual TLS and know each other by their SPIFFE
// IDs, so the access-control policies of a Configuration apply as in a run.
type Sentry struct {
	// Address is sentry's gRPC address, for --sentry-address.
	Address string
	// TrustAnchors is the root certificate (PEM) of the test's trust bundle.
	TrustAnchors []byte
	trustFile    string
}

// StartSentry runs sentry on free ports with a trust bundle of the test's
// own, in standalone mode (it issues a certificate to any sidecar that asks).
func StartSentry(t testing.TB) *Sentry {
	t.Helper()
	dir := t.TempDir()
	creds := filepath.Join(dir, "trust")
	root, err := trustbundle.Ensure(creds)
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "sentry.yaml")
	if err := os.WriteFile(conf, []byte("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: daprsystem}\nspec: {mtls: {enabled: true, workloadCertTTL: 24h, allowedClockSkew: 15m}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port, health := FreePort(t), FreePort(t)
	args := []string{
		"--mode", "standalone", "--config", conf, "--issuer-credentials", creds,
		"--port", strconv.Itoa(port), "--listen-address", "127.0.0.1",
		"--healthz-port", strconv.Itoa(health), "--healthz-listen-address", "127.0.0.1",
		"--metrics-port", strconv.Itoa(FreePort(t)), "--metrics-listen-address", "127.0.0.1",
	}
	logPath := filepath.Join(dir, "sentry.log")
	stop, exited := startProcess(t, "sentry", filepath.Join(filepath.Dir(DaprdPath(t)), "sentry"), args, nil, logPath)
	t.Cleanup(stop)
	if err := waitHealthy(fmt.Sprintf("http://127.0.0.1:%d/healthz", health), 60*time.Second, exited); err != nil {
		t.Fatalf("sentry did not become healthy: %v\n%s", err, tail(logPath, 40))
	}
	return &Sentry{Address: "localhost:" + strconv.Itoa(port), TrustAnchors: root, trustFile: filepath.Join(creds, trustbundle.RootFile)}
}

// daprdFlags are what a sidecar needs to take its certificate from s.
func (s *Sentry) daprdFlags() ([]string, []string) {
	if s == nil {
		return nil, nil
	}
	return []string{"--enable-mtls", "--sentry-address", s.Address}, []string{"DAPR_TRUST_ANCHORS=" + string(s.TrustAnchors)}
}

// controlPlaneFlags are what placement or the scheduler needs to serve TLS
// to sidecars that take their certificates from s.
func (s *Sentry) controlPlaneFlags() []string {
	if s == nil {
		return nil
	}
	return []string{"--tls-enabled", "--sentry-address", s.Address, "--trust-anchors-file", s.trustFile}
}
