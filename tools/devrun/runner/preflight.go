package runner

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/daprshop/platform/probe"
	"github.com/daprshop/platform/redisdb"
)

// preflight fails fast, with the fix, on what would otherwise fail later and
// obscurely: a port already taken, or a server a component needs that does
// not answer.
func (r *Run) preflight() error {
	type use struct {
		port int
		what string
	}
	var uses []use
	for _, a := range r.apps {
		uses = append(uses,
			use{a.AppPort, a.AppID + " app port"}, use{a.DaprHTTPPort, a.AppID + " sidecar HTTP port"},
			use{a.DaprGRPCPort, a.AppID + " sidecar gRPC port"}, use{a.DaprInternalGRPCPort, a.AppID + " sidecar internal gRPC port"},
			use{a.MetricsPort, a.AppID + " sidecar metrics port"})
	}
	if cp := r.cp; cp != nil {
		uses = append(uses, use{cp.sentryPort, "sentry"}, use{cp.sentryHealth, "sentry health"}, use{cp.sentryMetrics, "sentry metrics"},
			use{cp.placementPort, "placement"}, use{cp.placementHealth, "placement health"},
			use{cp.placementMetrics, "placement metrics"}, use{cp.placementRaft, "placement raft"},
			use{cp.schedulerPort, "scheduler"}, use{cp.schedulerHealth, "scheduler health"},
			use{cp.schedulerMetrics, "scheduler metrics"}, use{cp.etcdClient, "scheduler etcd"}, use{cp.etcdPeer, "scheduler etcd peer"})
	}
	var problems []string
	seen := map[int]string{}
	for _, u := range uses {
		if u.port <= 0 {
			problems = append(problems, u.what+" is not set in dapr.yaml")
			continue
		}
		if prev, dup := seen[u.port]; dup {
			problems = append(problems, fmt.Sprintf("port %d is given to both %s and %s", u.port, prev, u.what))
			continue
		}
		seen[u.port] = u.what
		if !portFree(u.port) {
			problems = append(problems, fmt.Sprintf("port %d (%s) is in use: is another `make run` still running? (see: ss -ltnp 'sport = :%d')", u.port, u.what, u.port))
		}
	}
	comps, err := r.components()
	if err != nil {
		return err
	}
	checked := map[string]bool{}
	for _, c := range comps {
		for _, s := range serversOf(c) {
			if checked[s.addr] || r.standinServes(s.addr) {
				continue
			}
			checked[s.addr] = true
			if err := s.check(s.addr); err != nil {
				problems = append(problems, fmt.Sprintf("%s at %s (used by component %q) does not answer: %v. %s",
					s.name, s.addr, c.name(), err, s.hint))
			}
		}
	}
	if len(problems) > 0 {
		return errors.New("cannot start:\n  - " + strings.Join(problems, "\n  - "))
	}
	// Dapr's Redis configuration store learns of changes from keyspace
	// notifications, which Redis sends only when asked to.
	for _, c := range comps {
		if c.componentType() != "configuration.redis" {
			continue
		}
		if h, ok := c.meta("redisHost"); ok {
			if err := redisdb.EnableKeyspaceEvents(h); err != nil {
				return fmt.Errorf("component %q: turn on keyspace notifications of the Redis at %s: %w", c.name(), h, err)
			}
		}
	}
	return nil
}

// server is a backing server a component connects to.
type server struct {
	name, addr, hint string
	check            func(addr string) error
}

// serversOf lists the servers a component needs, by its type and metadata.
func serversOf(c resource) []server {
	meta := func(k string) string { v, _ := c.meta(k); return v }
	typ := c.componentType()
	switch {
	case strings.Contains(typ, "redis"):
		if h := meta("redisHost"); h != "" {
			return []server{{"Redis", h, "Start it, e.g. `redis-server --daemonize yes --port 6379`, or point the components at yours.", probe.Redis}}
		}
	case strings.HasSuffix(typ, ".postgresql") || strings.HasSuffix(typ, ".postgres"):
		if a := postgresAddr(meta("connectionString")); a != "" {
			return []server{{"PostgreSQL", a, "Start it (e.g. `pg_ctlcluster <version> main start`) or set the component's connectionString.", dial}}
		}
	case typ == "pubsub.rabbitmq":
		if a := urlAddr(meta("connectionString"), "5672"); a != "" {
			return []server{{"RabbitMQ", a, "Start it, e.g. `rabbitmq-server -detached`.", dial}}
		}
	case typ == "pubsub.jetstream":
		if a := urlAddr(meta("natsURL"), "4222"); a != "" {
			return []server{{"NATS", a, "Start it with JetStream on, e.g. `nats-server -js`.", dial}}
		}
	case typ == "pubsub.mqtt3" || typ == "pubsub.mqtt":
		if a := urlAddr(meta("url"), "1883"); a != "" {
			return []server{{"the MQTT broker", a, "Start it, e.g. `mosquitto -d`.", dial}}
		}
	case typ == "pubsub.kafka":
		var out []server
		for _, b := range strings.Split(meta("brokers"), ",") {
			out = append(out, server{"Kafka", strings.TrimSpace(b), "Point `brokers` at your cluster.", dial})
		}
		return out
	case typ == "bindings.smtp":
		if h := meta("host"); h != "" {
			return []server{{"the SMTP server", net.JoinHostPort(h, meta("port")), "Point the binding's host at your mail server.", dial}}
		}
	}
	return nil
}

// standinServes reports whether one of the run's stand-ins listens on addr
// (it is started after the preflight).
func (r *Run) standinServes(addr string) bool {
	_, port, local := localAddr(addr)
	for _, s := range r.standins {
		if local && slices.Contains(s.serves, port) {
			return true
		}
	}
	return false
}

func dial(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// postgresAddr finds host:port in a key=value or URL connection string.
func postgresAddr(cs string) string {
	if strings.Contains(cs, "://") {
		return urlAddr(cs, "5432")
	}
	host, port := "localhost", "5432"
	for _, f := range strings.Fields(cs) {
		if v, ok := strings.CutPrefix(f, "host="); ok {
			host = v
		}
		if v, ok := strings.CutPrefix(f, "port="); ok {
			port = v
		}
	}
	if cs == "" || strings.HasPrefix(host, "/") {
		return ""
	}
	return net.JoinHostPort(host, port)
}

func urlAddr(raw, defPort string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), defPort)
	}
	return u.Host
}

// portFree reports whether port can be listened on. A port in the
// ephemeral range can be held for a moment by an outgoing connection, so a
// busy port is tried again for up to two seconds.
func portFree(port int) bool {
	for try := 0; try < 10; try++ {
		if ln, err := net.Listen("tcp", ":"+strconv.Itoa(port)); err == nil {
			ln.Close()
			return true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}
