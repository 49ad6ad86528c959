package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the repository root, from this package's folder.
var repoRoot = filepath.Join("..", "..")

// yamlFiles lists every *.yaml under dir, sub-folders included.
func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no YAML under %s", dir)
	}
	return files
}

// Every Dapr resource of the repository (the default components, every
// profile, every Configuration and the Resiliency) decodes strictly into
// Dapr's own Go types: a misspelt or unsupported field fails here instead
// of being ignored by daprd.
func TestEveryDaprResourceDecodesStrictly(t *testing.T) {
	n := 0
	for _, dir := range []string{"components", "dapr-config"} {
		for _, f := range yamlFiles(t, dir) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			docs, err := SplitYAML(b)
			if err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			for _, d := range docs {
				n++
				if !d.IsDapr() {
					t.Errorf("%s: %s is not a Dapr resource", f, d)
					continue
				}
				if err := DecodeDaprStrict(d); err != nil {
					t.Errorf("%s: %s: %v", f, d, err)
				}
				if err := CheckMetadataItems(d); err != nil {
					t.Errorf("%s: %s: %v", f, d, err)
				}
			}
		}
	}
	t.Logf("%d Dapr resources decoded strictly", n)
}

// The check can fail: fields daprd ignores are refused.
func TestStrictDecodingRefusesUnknownFields(t *testing.T) {
	for name, doc := range map[string]string{
		"retry initialInterval (not a Dapr field)": `
apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: r}
spec:
  policies:
    retries:
      x: {policy: exponential, initialInterval: 100ms, maxRetries: 3}`,
		"misspelt component field": `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: c}
spec: {type: state.redis, version: v1, metdata: []}`,
		"unknown configuration section": `
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: c}
spec: {tracing: {samplingRate: "1"}, nameResolver: {component: sqlite}}`,
		"duplicate key": `
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: {name: s}
spec: {pubsubname: p, topic: a, topic: b, routes: {default: /x}}`,
		"value and envRef together": `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: c}
spec: {type: state.redis, version: v1, metadata: [{name: redisHost, value: x, envRef: REDIS_HOST}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			docs, err := SplitYAML([]byte(doc))
			if err == nil {
				err = DecodeDaprStrict(docs[0])
			}
			if err == nil {
				err = CheckMetadataItems(docs[0])
			}
			if err == nil {
				t.Fatal("accepted")
			}
			t.Log(err)
		})
	}
}
