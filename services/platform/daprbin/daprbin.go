// Package daprbin locates the Dapr runtime `make dapr` builds: the version
// pinned in tools/dapr/go.mod, under <repo>/.bin/dapr/<version>/.
package daprbin

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/daprshop/platform/toolbin"
)

// Dir returns the folder holding daprd, placement, scheduler and sentry for
// the pinned version, or an error that says to run `make dapr`.
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
func PinnedVersion(root string) (string, error) { return toolbin.PinnedVersion(root, "dapr") }
