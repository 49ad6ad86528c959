// Package daprconfig edits Dapr Configuration documents for isolated runs
// (tests, benchmarks) so they cannot reach other runs' sidecars.
package daprconfig

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// WithSQLiteNameResolution returns the Configuration doc (empty: a new one
// named name) resolving app IDs through the SQLite file db instead of mDNS.
//
// mDNS is shared by every daprd on the host: two runs that both have an app
// "product" answer for each other. A doc that already names a resolver is
// returned unchanged.
func WithSQLiteNameResolution(doc []byte, name, db string) ([]byte, error) {
	cfg := map[string]any{
		"apiVersion": "dapr.io/v1alpha1",
		"kind":       "Configuration",
		"metadata":   map[string]any{"name": name},
	}
	if len(doc) > 0 {
		if err := yaml.Unmarshal(doc, &cfg); err != nil {
			return nil, fmt.Errorf("dapr configuration: %w", err)
		}
	}
	spec, _ := cfg["spec"].(map[string]any)
	if spec == nil {
		spec = map[string]any{}
		cfg["spec"] = spec
	}
	if _, set := spec["nameResolution"]; set {
		return doc, nil
	}
	spec["nameResolution"] = map[string]any{
		"component":     "sqlite",
		"version":       "v1",
		"configuration": map[string]any{"connectionString": db},
	}
	return yaml.Marshal(cfg)
}
