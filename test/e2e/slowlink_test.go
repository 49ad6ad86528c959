package e2e

import (
	"context"
	"net"
	"strings"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// slowLinkIP is where the chaos suite's payment sidecar announces itself
// (runner.Options.Announce): a loopback address of its own, where the slow
// link listens on the sidecar's port.
const slowLinkIP = "127.0.0.2"

// slowLink is a toxiproxy between every sidecar and payment's: it passes
// bytes as they come until worsen adds 2 s of latency to every answer and
// resets each connection 5 s after it first carries a request.
type slowLink struct{ proxy *toxiproxy.Proxy }

func startSlowLink(t *testing.T, sidecar string) *slowLink {
	t.Helper()
	_, port, err := net.SplitHostPort(sidecar)
	if err != nil {
		t.Fatal(err)
	}
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(server, "payment", net.JoinHostPort(slowLinkIP, port), sidecar)
	if err := p.Start(); err != nil {
		t.Fatalf("toxiproxy in front of payment's sidecar: %v", err)
	}
	t.Cleanup(p.Stop)
	return &slowLink{p}
}

func (l *slowLink) worsen() error {
	for _, toxic := range []string{
		`{"name":"latency","type":"latency","stream":"downstream","attributes":{"latency":2000}}`,
		`{"name":"resets","type":"reset_peer","stream":"upstream","attributes":{"timeout":5000}}`,
	} {
		if _, err := l.proxy.Toxics.AddToxicJson(strings.NewReader(toxic)); err != nil {
			return err
		}
	}
	return nil
}

func (l *slowLink) heal() error {
	l.proxy.Toxics.ResetToxics(context.Background())
	return nil
}
