package runner

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// isolateNameResolution writes a copy of each app's Dapr Configuration that
// resolves app IDs through a SQLite file of this run, and points the app at it.
//
// mDNS, the default, is shared by every daprd on the host: with `make run`
// going, a test run's gateway could reach `make run`'s "user" and the other
// way round. A Configuration that already names a resolver is left alone.
func (r *Run) isolateNameResolution(stateDir string) error {
	dir := filepath.Join(stateDir, "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	db := filepath.Join(stateDir, "nameresolution.db")
	for _, a := range r.apps {
		doc := map[string]any{
			"apiVersion": "dapr.io/v1alpha1",
			"kind":       "Configuration",
			"metadata":   map[string]any{"name": a.AppID},
		}
		if a.ConfigFilePath != "" {
			b, err := os.ReadFile(a.ConfigFilePath)
			if err != nil {
				return err
			}
			if err := yaml.Unmarshal(b, &doc); err != nil {
				return fmt.Errorf("%s: %w", a.ConfigFilePath, err)
			}
		}
		spec, _ := doc["spec"].(map[string]any)
		if spec == nil {
			spec = map[string]any{}
			doc["spec"] = spec
		}
		if _, set := spec["nameResolution"]; !set {
			spec["nameResolution"] = map[string]any{
				"component":     "sqlite",
				"version":       "v1",
				"configuration": map[string]any{"connectionString": db},
			}
		}
		b, err := yaml.Marshal(doc)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, a.AppID+".yaml")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return err
		}
		a.ConfigFilePath = path
	}
	return nil
}
