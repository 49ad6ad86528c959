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
)

// resourceFile is one YAML file of a resources folder: one or more Dapr
// resources (Component, Subscription, Resiliency...), kept as generic maps
// so that a copy writes back every field it does not touch.
type resourceFile struct {
	path string
	docs []resource
}

// resource is one Dapr resource document.
type resource map[string]any

func (r resource) kind() string { s, _ := r["kind"].(string); return s }

func (r resource) name() string {
	m, _ := r["metadata"].(map[string]any)
	s, _ := m["name"].(string)
	return s
}

func (r resource) spec() map[string]any {
	s, _ := r["spec"].(map[string]any)
	return s
}

// componentType is spec.type of a Component ("" for other kinds).
func (r resource) componentType() string {
	if r.kind() != "Component" {
		return ""
	}
	s, _ := r.spec()["type"].(string)
	return s
}

// meta returns the plain value of a Component metadata item.
func (r resource) meta(name string) (string, bool) {
	items, _ := r.spec()["metadata"].([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m["name"] == name {
			if v, ok := m["value"]; ok && v != nil {
				return fmt.Sprint(v), true
			}
			return "", false
		}
	}
	return "", false
}

// setMeta sets (or adds) the plain value of a Component metadata item.
func (r resource) setMeta(name, value string) {
	spec := r.spec()
	items, _ := spec["metadata"].([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m["name"] == name {
			delete(m, "envRef")
			delete(m, "secretKeyRef")
			m["value"] = value
			return
		}
	}
	spec["metadata"] = append(items, map[string]any{"name": name, "value": value})
}

// readResourceDir reads every *.yaml file of dir (not its sub-folders, as
// daprd does).
func readResourceDir(dir string) ([]*resourceFile, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []*resourceFile
	for _, f := range files {
		rf, err := readResourceFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, rf)
	}
	return out, nil
}

func readResourceFile(path string) (*resourceFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rf := &resourceFile{path: path}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if doc != nil {
			rf.docs = append(rf.docs, doc)
		}
	}
	return rf, nil
}

func (f *resourceFile) write(path string) error {
	var parts []string
	for _, d := range f.docs {
		b, err := yaml.Marshal(map[string]any(d))
		if err != nil {
			return err
		}
		parts = append(parts, string(b))
	}
	return os.WriteFile(path, []byte(strings.Join(parts, "---\n")), 0o644)
}

// components lists the Components of every resources folder the run
// file's apps load, each once (also in a run that starts only some apps, or
// none: `devrun infra` starts the stand-ins the apps' components need).
func (r *Run) components() ([]resource, error) {
	seen := map[string]bool{}
	var out []resource
	for _, a := range r.topology {
		for _, dir := range a.ResourcesPaths {
			if seen[dir] {
				continue
			}
			seen[dir] = true
			files, err := readResourceDir(dir)
			if err != nil {
				return nil, err
			}
			for _, f := range files {
				for _, d := range f.docs {
					if d.kind() == "Component" {
						out = append(out, d)
					}
				}
			}
		}
	}
	return out, nil
}

// Component answers one of the run's Components as its sidecars load it
// (isolated, profiles applied): its type and its metadata items' plain
// values.
func (r *Run) Component(name string) (typ string, meta map[string]string, err error) {
	comps, err := r.components()
	if err != nil {
		return "", nil, err
	}
	for _, c := range comps {
		if c.name() != name {
			continue
		}
		meta = map[string]string{}
		items, _ := c.spec()["metadata"].([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			n, _ := m["name"].(string)
			if v, ok := c.meta(n); ok {
				meta[n] = v
			}
		}
		return c.componentType(), meta, nil
	}
	return "", nil, fmt.Errorf("the run has no component %q", name)
}
