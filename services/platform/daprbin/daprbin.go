// Package daprbin locates the Dapr runtime `make dapr` builds: the version
// pinned in tools/dapr/go.mod, under <repo>/.bin/dapr/<version>/.
package daprbin

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Dir returns the folder holding daprd, placement and scheduler for the
// pinned version, or an error that says to run `make dapr`.
func Dir(root string) (string, error) {
	version, err := PinnedVersion(root)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, ".bin", "dapr", version)
	for _, bin := range []string{"daprd", "placement", "scheduler"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return "", fmt.Errorf("Dapr %s is not built (%s missing): run `make dapr`", version, bin)
		}
	}
	return dir, nil
}

// PinnedVersion reads the Dapr version required in tools/dapr/go.mod.
func PinnedVersion(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "tools", "dapr", "go.mod"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "require" && f[1] == "github.com/dapr/dapr" {
			return strings.TrimPrefix(f[2], "v"), nil
		}
	}
	return "", fmt.Errorf("tools/dapr/go.mod does not require github.com/dapr/dapr")
}
