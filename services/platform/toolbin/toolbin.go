// Package toolbin locates the pinned tools `tools/build.sh <name>` builds:
// .bin/<name>/<version>/, where the version is the one tools/<name>/go.mod
// requires of the module tools/<name>/build.conf names.
package toolbin

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Dir returns the output folder of tool for its pinned version, or an error
// that says how to build it. It does not check which binaries are there.
func Dir(root, tool string) (string, error) {
	version, err := PinnedVersion(root, tool)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, ".bin", tool, version)
	if _, err := os.Stat(filepath.Join(dir, ".stamp")); err != nil {
		return "", fmt.Errorf("%s %s is not built: run `tools/build.sh %s`", tool, version, tool)
	}
	return dir, nil
}

// PinnedVersion is the version (without "v") tools/<tool>/go.mod requires of
// the module tools/<tool>/build.conf builds.
func PinnedVersion(root, tool string) (string, error) {
	conf, err := os.ReadFile(filepath.Join(root, "tools", tool, "build.conf"))
	if err != nil {
		return "", err
	}
	module := ""
	for _, line := range strings.Split(string(conf), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "module="); ok {
			module = strings.Trim(v, `"'`)
		}
	}
	if module == "" {
		return "", fmt.Errorf("tools/%s/build.conf names no module", tool)
	}
	mod, err := os.ReadFile(filepath.Join(root, "tools", tool, "go.mod"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(mod), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && f[0] == module && f[1] != "=>" {
			return strings.TrimPrefix(f[1], "v"), nil
		}
	}
	return "", fmt.Errorf("tools/%s/go.mod does not require %s", tool, module)
}
