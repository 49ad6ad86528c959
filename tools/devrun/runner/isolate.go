package runner

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/daprshop/platform/daprconfig"
)

// isolateNameResolution writes a copy of each app's Dapr Configuration that
// resolves app IDs through a SQLite file of this run (see package
// daprconfig), and points the app at it.
func (r *Run) isolateNameResolution(stateDir string) error {
	dir := filepath.Join(stateDir, "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	db := filepath.Join(stateDir, "nameresolution.db")
	for _, a := range r.apps {
		var doc []byte
		if a.ConfigFilePath != "" {
			b, err := os.ReadFile(a.ConfigFilePath)
			if err != nil {
				return err
			}
			doc = b
		}
		out, err := daprconfig.WithSQLiteNameResolution(doc, a.AppID, db)
		if err != nil {
			return fmt.Errorf("%s: %w", a.ConfigFilePath, err)
		}
		path := filepath.Join(dir, a.AppID+".yaml")
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return err
		}
		a.ConfigFilePath = path
	}
	return nil
}

// isolateResources copies the apps' resource folders into the state folder
// with every Redis component pointed at database db (unless it names one)
// and every local-storage binding (the email outbox) writing under the
// state folder, so an isolated run's state, streams and files cannot mix
// with `make run`'s (database 0, .outbox) or another run's. Other stores (a
// PostgreSQL profile) are not rewritten.
func (r *Run) isolateResources(stateDir string, db int) error {
	copies := map[string]string{}
	for _, a := range r.apps {
		for i, src := range a.ResourcesPaths {
			if dst, ok := copies[src]; ok {
				a.ResourcesPaths[i] = dst
				continue
			}
			dst := filepath.Join(stateDir, "resources", fmt.Sprint(len(copies)))
			if err := copyResources(src, dst, db, filepath.Join(stateDir, "outbox")); err != nil {
				return err
			}
			copies[src] = dst
			a.ResourcesPaths[i] = dst
		}
	}
	return nil
}

func copyResources(src, dst string, db int, outbox string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(src, "*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var docs []string
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return fmt.Errorf("%s: %w", f, err)
			}
			setRedisDB(doc, db)
			setMetadata(doc, "bindings.localstorage", "rootPath", outbox)
			out, err := yaml.Marshal(doc)
			if err != nil {
				return err
			}
			docs = append(docs, string(out))
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func setRedisDB(doc map[string]any, db int) {
	if doc["kind"] != "Component" {
		return
	}
	spec, _ := doc["spec"].(map[string]any)
	if typ, _ := spec["type"].(string); !strings.Contains(typ, "redis") {
		return
	}
	meta, _ := spec["metadata"].([]any)
	for _, m := range meta {
		if item, _ := m.(map[string]any); item["name"] == "redisDB" {
			return
		}
	}
	spec["metadata"] = append(meta, map[string]any{"name": "redisDB", "value": fmt.Sprint(db)})
}

// setMetadata sets one metadata value of components of type typ.
func setMetadata(doc map[string]any, typ, name, value string) {
	if doc["kind"] != "Component" {
		return
	}
	spec, _ := doc["spec"].(map[string]any)
	if t, _ := spec["type"].(string); t != typ {
		return
	}
	meta, _ := spec["metadata"].([]any)
	for _, m := range meta {
		if item, _ := m.(map[string]any); item["name"] == name {
			item["value"] = value
			return
		}
	}
	spec["metadata"] = append(meta, map[string]any{"name": name, "value": value})
}
