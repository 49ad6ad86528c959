package runner

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/daprshop/platform/freeport"
	"github.com/daprshop/platform/hostlock"
	"github.com/daprshop/platform/redisdb"
)

// Environment variables the runner sets for every sidecar. The local
// components read their paths through envRef instead of paths relative to
// a working directory (which differs between the Dapr CLI, devrun, Tilt and
// tests); daprd expands ${VAR} in Configuration files, which the sqlite
// name-resolution profile uses.
const (
	EnvSecretsFile = "DAPRSHOP_SECRETS_FILE" // components/secretstore.yaml
	EnvOutbox      = "DAPRSHOP_OUTBOX"       // components/email.yaml
	EnvRunDir      = "DAPRSHOP_RUN_DIR"      // profiles/sqlite/configuration.yaml
	// Each sidecar's own: its app's and its own health URLs, checked by
	// Consul (profiles/consul/configuration.yaml).
	EnvAppHealthURL     = "DAPRSHOP_APP_HEALTH_URL"
	EnvSidecarHealthURL = "DAPRSHOP_SIDECAR_HEALTH_URL"
	// EnvRateLimitStore is the gateway's Redis URL for rate limits: an
	// isolated run points it at its own database.
	EnvRateLimitStore = "RATE_LIMIT_STORE"
)

// isolate lets the run coexist with `make run` and other isolated runs:
// free ports, a name-resolution file of its own (unless a profile resolves
// names), Redis database db in every Redis component, a PostgreSQL database
// of its own, its own outbox.
func (r *Run) isolate(ctx context.Context, stateDir string, db int) error {
	if err := r.useFreePorts(); err != nil {
		return err
	}
	return r.isolateData(ctx, stateDir, db)
}

// isolateData keeps the run's data apart: its own outbox, name resolution,
// Redis database (db, or one reserved from package redisdb when 0) and
// PostgreSQL database.
func (r *Run) isolateData(ctx context.Context, stateDir string, db int) error {
	r.setEnv(EnvOutbox, filepath.Join(stateDir, "outbox"))
	switch {
	case r.profile.setsNameResolution():
	case r.mdns:
		release, err := hostlock.Wait(ctx, "mdns")
		if err != nil {
			return err
		}
		r.cleanups = append(r.cleanups, release)
	default:
		if err := r.isolateNameResolution(stateDir); err != nil {
			return err
		}
		r.sqliteNames = true
	}
	if db == 0 {
		reserved, release, err := redisdb.Reserve(ctx)
		if err != nil {
			return err
		}
		r.cleanups = append(r.cleanups, release)
		db = reserved
	}
	hosts := map[string]bool{}
	err := r.rewriteComponents(filepath.Join(stateDir, "resources"), func(c resource) {
		if strings.Contains(c.componentType(), "redis") {
			if r.redis != "" {
				c.setMeta("redisHost", r.redis)
			}
			if _, set := c.meta("redisDB"); !set {
				c.setMeta("redisDB", strconv.Itoa(db))
				if h, ok := c.meta("redisHost"); ok {
					hosts[h] = true
				}
			}
			if via, ok := r.redisVia[c.name()]; ok {
				c.setMeta("redisHost", via)
			}
			if h, ok := c.meta("redisHost"); ok && !slices.Contains(r.redisAddrs, h) {
				r.redisAddrs = append(r.redisAddrs, h)
			}
		}
	})
	if err != nil {
		return err
	}
	// The gateway's rate-limit counters (RATE_LIMIT_STORE) move with the state.
	for _, a := range r.apps {
		if v, ok := a.Env[EnvRateLimitStore]; ok {
			if u, err := url.Parse(v); err == nil && u.Scheme == "redis" {
				u.Path = "/" + strconv.Itoa(db)
				if r.redis != "" {
					u.Host = r.redis
				}
				a.Env[EnvRateLimitStore] = u.String()
			}
		}
	}
	// The database is this run's alone: start it empty, so nothing of an
	// earlier run (accounts, throttles, undelivered stream entries) is found.
	for h := range hosts {
		if err := redisdb.Flush(h, db); err != nil {
			return fmt.Errorf("empty Redis database %d at %s: %w", db, h, err)
		}
	}
	return r.isolatePostgres(ctx, newToken()[:12])
}

// setEnv sets a variable of every sidecar's environment.
func (r *Run) setEnv(name, value string) {
	r.sidecarEnv = append(r.sidecarEnv, name+"="+value)
}

func (r *Run) useFreePorts() error {
	for _, a := range r.apps {
		if err := a.movePorts(anyFreePort); err != nil {
			return err
		}
	}
	if cp := r.cp; cp != nil {
		for _, p := range []*int{&cp.sentryPort, &cp.sentryHealth, &cp.sentryMetrics, &cp.placementPort, &cp.placementHealth, &cp.placementMetrics, &cp.placementRaft,
			&cp.schedulerPort, &cp.schedulerHealth, &cp.schedulerMetrics, &cp.etcdClient, &cp.etcdPeer} {
			port, err := freeport.Pick()
			if err != nil {
				return err
			}
			*p = port
		}
	}
	if r.cp != nil {
		for _, a := range r.apps {
			a.PlacementHostAddress = r.PlacementAddress()
			sched := r.SchedulerAddress()
			a.SchedulerHostAddress = &sched
		}
	}
	return nil
}

// traceTo layers a Configuration over every app's own that exports the
// sidecars' spans over OTLP/gRPC to endpoint (host:port), every request
// sampled.
func (r *Run) traceTo(endpoint string) error {
	return r.overlay("tracing.yaml", map[string]any{
		"apiVersion": "dapr.io/v1alpha1",
		"kind":       "Configuration",
		"metadata":   map[string]any{"name": "tracing"},
		"spec": map[string]any{"tracing": map[string]any{
			"samplingRate": "1",
			"otel":         map[string]any{"endpointAddress": endpoint, "isSecure": false, "protocol": "grpc"},
		}},
	})
}

// overlay writes doc into the run's config folder and layers it over every
// app's Configuration.
func (r *Run) overlay(name string, doc map[string]any) error {
	b, err := yaml.Marshal(doc)
	if err != nil {
		return err
	}
	path := filepath.Join(r.stateDir, "config", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	r.overlays = append(r.overlays, path)
	return nil
}

// isolateNameResolution layers a Configuration over every app's own that
// resolves app IDs through a SQLite file of this run: mDNS is shared by
// every daprd on the host, so two runs that both have an app "product"
// would answer for each other.
func (r *Run) isolateNameResolution(stateDir string) error {
	return r.overlay("nameresolution.yaml", map[string]any{
		"apiVersion": "dapr.io/v1alpha1",
		"kind":       "Configuration",
		"metadata":   map[string]any{"name": "isolated-name-resolution"},
		"spec": map[string]any{"nameResolution": map[string]any{
			"component": "sqlite", "version": "v1",
			"configuration": map[string]any{"connectionString": filepath.Join(stateDir, "isolated-names.db")},
		}},
	})
}

// extraConfigs are the Configuration files layered over every app's own.
func (r *Run) extraConfigs() []string {
	return append(r.profile.configPaths(), r.overlays...)
}

func (p *profile) configPaths() []string {
	if p == nil {
		return nil
	}
	return p.configs
}

// setsNameResolution reports whether a profile's configuration chooses the
// name resolver (sqlite, consul).
func (p *profile) setsNameResolution() bool { return p.resolver() != "" }

// rewriteComponents copies the apps' resource folders into dir, applying
// edit to every Component, and points the apps at the copies.
func (r *Run) rewriteComponents(dir string, edit func(resource)) error {
	copies := map[string]string{}
	for _, a := range r.topology {
		for i, src := range a.ResourcesPaths {
			if dst, ok := copies[src]; ok {
				a.ResourcesPaths[i] = dst
				continue
			}
			dst := filepath.Join(dir, fmt.Sprint(len(copies)))
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			files, err := readResourceDir(src)
			if err != nil {
				return err
			}
			for _, f := range files {
				for _, d := range f.docs {
					if d.kind() == "Component" {
						edit(d)
					}
				}
				if err := f.write(filepath.Join(dst, filepath.Base(f.path))); err != nil {
					return err
				}
			}
			copies[src] = dst
			a.ResourcesPaths[i] = dst
		}
	}
	return nil
}
