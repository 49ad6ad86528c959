package runner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

type component struct {
	Kind string `yaml:"kind"`
	Spec struct {
		Type     string `yaml:"type"`
		Metadata []struct {
			Name  string `yaml:"name"`
			Value any    `yaml:"value"`
		} `yaml:"metadata"`
	} `yaml:"spec"`
}

// redisHosts lists the redisHost of every Redis component under paths.
func redisHosts(paths []string) ([]string, error) {
	var hosts []string
	for _, dir := range paths {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			dec := yaml.NewDecoder(strings.NewReader(string(b)))
			for {
				var c component
				if err := dec.Decode(&c); err != nil {
					if errors.Is(err, io.EOF) {
						break
					}
					return nil, fmt.Errorf("%s: %w", f, err)
				}
				if c.Kind != "Component" || !strings.Contains(c.Spec.Type, "redis") {
					continue
				}
				for _, m := range c.Spec.Metadata {
					if h, ok := m.Value.(string); ok && m.Name == "redisHost" && !slices.Contains(hosts, h) {
						hosts = append(hosts, h)
					}
				}
			}
		}
	}
	return hosts, nil
}
