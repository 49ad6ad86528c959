package runner

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/daprshop/platform/freeport"
	"github.com/daprshop/platform/toolbin"
)

// A stand-in is a local server the runner starts for a profile whose
// component points at a loopback address where nothing listens: a Kafka
// broker (kfake), an SMTP server (Mailpit) or a Consul agent. Each is built
// from its Go module by tools/build.sh and named as what it is in the
// output, so nobody mistakes an in-memory Kafka for a cluster. Pointing the
// component at a real server (another address, or one already listening)
// means no stand-in is started.
type standin struct {
	kind   standinKind
	tool   string // tools/<tool>, built by tools/build.sh
	bin    string
	label  string
	args   []string
	ready  func(ctx context.Context) string // "" when ready, else why not
	apiURL string                           // the mail stand-in's HTTP API
	serves []int                            // loopback ports components reach it on
	path   string                           // resolved binary
}

type standinKind int

const (
	standinKafka standinKind = iota + 1
	standinMail
	standinConsul
	standinCollector
)

// standinsFor decides which stand-ins the run needs. In an isolated run
// every stand-in gets free ports and the components are pointed at them.
func (r *Run) standinsFor(isolated bool) ([]*standin, error) {
	comps, err := r.components()
	if err != nil {
		return nil, err
	}
	var out []*standin
	edits := map[string]map[string]string{} // component name -> metadata -> value
	// Components that name one broker address (pubsub and broadcast) share
	// its stand-in: declared address -> the stand-in's port.
	kafkaAt := map[string]int{}
	for _, c := range comps {
		switch c.componentType() {
		case "pubsub.kafka":
			brokers, _ := c.meta("brokers")
			declared := strings.Split(brokers, ",")[0]
			host, port, local := localAddr(declared)
			if !local || (!isolated && listening(host, port)) {
				continue
			}
			if shared, ok := kafkaAt[declared]; ok {
				if isolated {
					edits[c.name()] = map[string]string{"brokers": "127.0.0.1:" + strconv.Itoa(shared)}
				}
				continue
			}
			if isolated {
				if port, err = freeport.Pick(); err != nil {
					return nil, err
				}
				edits[c.name()] = map[string]string{"brokers": "127.0.0.1:" + strconv.Itoa(port)}
			}
			kafkaAt[declared] = port
			out = append(out, kafkaStandin(port))
		case "bindings.smtp":
			hostV, _ := c.meta("host")
			portV, _ := c.meta("port")
			host, port, local := localAddr(net.JoinHostPort(hostV, portV))
			if !local || (!isolated && listening(host, port)) {
				continue
			}
			api := 8025
			if isolated || listening("127.0.0.1", api) {
				if api, err = freeport.Pick(); err != nil {
					return nil, err
				}
			}
			if isolated {
				if port, err = freeport.Pick(); err != nil {
					return nil, err
				}
				edits[c.name()] = map[string]string{"host": "127.0.0.1", "port": strconv.Itoa(port)}
			}
			out = append(out, mailStandin(port, api))
		}
	}
	if r.wantCollector {
		port := 4317
		if isolated || listening("127.0.0.1", port) {
			if port, err = freeport.Pick(); err != nil {
				return nil, err
			}
		}
		s, err := collectorStandin(port, r.stateDir)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		r.traceEndpoint = "127.0.0.1:" + strconv.Itoa(port)
	}
	if r.profile.resolver() == "consul" {
		addr := os.Getenv("CONSUL_HTTP_ADDR")
		if addr == "" {
			addr = "127.0.0.1:8500"
		}
		host, port, local := localAddr(addr)
		if local && (isolated || !listening(host, port)) {
			s, err := consulStandin(port, isolated, r.stateDir)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
			r.setEnv("CONSUL_HTTP_ADDR", "127.0.0.1:"+strconv.Itoa(s.httpPort()))
		}
	}
	if len(edits) > 0 {
		err := r.rewriteComponents(filepath.Join(r.stateDir, "resources-standins"), func(c resource) {
			for k, v := range edits[c.name()] {
				c.setMeta(k, v)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// resolver is the name resolver a profile's configuration chooses ("" for
// none, i.e. mDNS).
func (p *profile) resolver() string {
	if p == nil {
		return ""
	}
	name := ""
	for _, c := range p.configs {
		b, err := os.ReadFile(c)
		if err != nil {
			continue
		}
		var cfg struct {
			Spec struct {
				NameResolution struct {
					Component string `yaml:"component"`
				} `yaml:"nameResolution"`
			} `yaml:"spec"`
		}
		if yaml.Unmarshal(b, &cfg) == nil && cfg.Spec.NameResolution.Component != "" {
			name = cfg.Spec.NameResolution.Component
		}
	}
	return name
}

// TraceCollector as Options.TraceEndpoint asks for the bundled collector.
const TraceCollector = "collector"

// collectorStandin is an OpenTelemetry Collector (tools/otelcol) receiving
// OTLP/gRPC on port and printing every span to its log.
func collectorStandin(port int, stateDir string) (*standin, error) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	config := filepath.Join(stateDir, "otelcol.yaml")
	body := "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: " + addr + "\n" +
		"exporters:\n  debug:\n    verbosity: normal\n" +
		"service:\n  telemetry:\n    metrics:\n      level: none\n" +
		"  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n"
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(config, []byte(body), 0o644); err != nil {
		return nil, err
	}
	return &standin{
		kind: standinCollector, tool: "otelcol", bin: "otelcol",
		label: "tracing: an OpenTelemetry Collector on " + addr + " (OTLP/gRPC), printing every span the sidecars send to its log (" +
			filepath.Join(stateDir, "logs", "otelcol.log") + "). Run your own and use TRACING=host:port to send them elsewhere.",
		args:   []string{"--config", "file:" + config},
		ready:  tcpReady(addr),
		serves: []int{port},
	}, nil
}

func kafkaStandin(port int) *standin {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	return &standin{
		kind: standinKafka, tool: "kfake", bin: "kfake",
		label: "kafka: kfake on " + addr + ", an in-memory Kafka-protocol stand-in (github.com/twmb/franz-go/pkg/kfake), " +
			"not a Kafka cluster: messages are lost when it stops. Point `brokers` at a real cluster to use one.",
		args:   []string{"-port", strconv.Itoa(port)},
		ready:  tcpReady(addr),
		serves: []int{port},
	}
}

func mailStandin(smtpPort, apiPort int) *standin {
	smtp, api := "127.0.0.1:"+strconv.Itoa(smtpPort), "127.0.0.1:"+strconv.Itoa(apiPort)
	return &standin{
		kind: standinMail, tool: "mailpit", bin: "mailpit",
		label: "smtp: Mailpit on " + smtp + " (web UI and API on http://" + api + "), a local mail catcher: " +
			"nothing leaves this machine. Point the email binding's host at a real server to send mail.",
		// In memory (a temporary file it deletes on exit); any credentials
		// accepted over plain SMTP, as the profile's local setting sends them.
		args: []string{"--smtp", smtp, "--listen", api, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
			"--disable-version-check", "--quiet"},
		ready:  httpReady("http://" + api + "/readyz"),
		apiURL: "http://" + api,
		serves: []int{smtpPort},
	}
}

func consulStandin(httpPort int, isolated bool, stateDir string) (*standin, error) {
	ports := map[string]int{"http": httpPort, "dns": -1, "grpc": -1, "grpc_tls": -1, "serf_lan": 0, "serf_wan": 0, "server": 0}
	for _, name := range []string{"serf_lan", "serf_wan", "server"} {
		p, err := freeport.Pick()
		if err != nil {
			return nil, err
		}
		ports[name] = p
	}
	if isolated {
		p, err := freeport.Pick()
		if err != nil {
			return nil, err
		}
		ports["http"] = p
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports["http"])
	args := []string{"agent", "-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-data-dir", filepath.Join(stateDir, "consul"), "-log-level", "warn"}
	for _, name := range []string{"http", "dns", "grpc", "grpc_tls", "serf_lan", "serf_wan", "server"} {
		args = append(args, "-hcl", fmt.Sprintf("ports { %s = %d }", name, ports[name]))
	}
	return &standin{
		kind: standinConsul, tool: "consul", bin: "consul",
		label:  "consul: a Consul 1.16.0 dev agent on " + addr + " (in memory, one node). Point CONSUL_HTTP_ADDR at your agent to use it.",
		args:   args,
		ready:  consulLeader("http://" + addr + "/v1/status/leader"),
		serves: []int{ports["http"]},
	}, nil
}

func (s *standin) httpPort() int { return s.serves[0] }

// buildStandins builds (or finds in the cache) every stand-in's binary.
func (r *Run) buildStandins(ctx context.Context) error {
	for _, s := range r.standins {
		dir, err := toolbin.Dir(r.root, s.tool)
		if err != nil || !exists(filepath.Join(dir, s.bin)) {
			r.console.printf("building the %s stand-in from its Go module (minutes the first time, then cached; `make standins` builds them all)\n", s.tool)
			cmd := exec.CommandContext(ctx, filepath.Join(r.root, "tools", "build.sh"), s.tool)
			cmd.Dir = r.root
			cmd.Stdout, cmd.Stderr = r.console.out, r.console.out
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("build the %s stand-in: %v", s.tool, err)
			}
			if dir, err = toolbin.Dir(r.root, s.tool); err != nil {
				return err
			}
		}
		s.path = filepath.Join(dir, s.bin)
	}
	return nil
}

// startStandins starts the stand-ins in a tier of their own (stopped last)
// and waits until each answers: the sidecars connect at start.
func (r *Run) startStandins(ctx context.Context) error {
	if len(r.standins) == 0 {
		return nil
	}
	var tier []*process
	for _, s := range r.standins {
		r.console.printf("%s\n", s.label)
		p, err := r.console.start(s.tool, "37", r.stateDir, s.path, s.args, nil, showAll)
		if err != nil {
			return err
		}
		tier = append(tier, p)
	}
	r.tiers = append(r.tiers, tier)
	deadline := time.Now().Add(30 * time.Second)
	for i, s := range r.standins {
		for {
			why := s.ready(ctx)
			if why == "" {
				break
			}
			if tier[i].exited() {
				return fmt.Errorf("%s exited: %v\n%s", s.tool, tier[i].err, indent(tier[i].tail.String()))
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not ready after 30s: %s", s.tool, why)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// localAddr splits host:port and reports whether the host is this machine.
func localAddr(addr string) (string, int, bool) {
	host, p, err := net.SplitHostPort(strings.TrimSpace(addr))
	if err != nil {
		return "", 0, false
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, false
	}
	return host, port, host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func listening(host string, port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), 500*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func tcpReady(addr string) func(context.Context) string {
	return func(context.Context) string {
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err != nil {
			return err.Error()
		}
		c.Close()
		return ""
	}
}

// consulLeader is ready once the agent has elected itself leader: its
// status endpoint answers `""` until then.
func consulLeader(url string) func(context.Context) string {
	return func(ctx context.Context) string {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := shortClient.Do(req)
		if err != nil {
			return "not listening yet"
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		if resp.StatusCode != http.StatusOK || len(strings.Trim(strings.TrimSpace(string(b)), `"`)) == 0 {
			return "no leader yet"
		}
		return ""
	}
}

func httpReady(url string) func(context.Context) string {
	return func(ctx context.Context) string {
		return probeHTTP(ctx, shortClient, url)
	}
}
