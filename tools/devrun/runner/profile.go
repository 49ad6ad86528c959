package runner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// A component profile is a folder components/profiles/<name>/ of YAML files
// only: a file with the name of one in components/ replaces it (and must
// define the same components, so no code changes), any other file is added,
// and configuration.yaml, if present, is a Dapr Configuration layered over
// every app's own (daprd takes several --config files in standalone mode,
// later ones winning): name resolution, for example.
//
// The runner applies profiles by writing the merged folder under the run's
// state folder and pointing every sidecar that loads components/ at it.
type profile struct {
	list          []string
	dirs          []string
	componentsDir string
	configs       []string
}

// ProfileConfigFile is the optional Configuration overlay of a profile.
const ProfileConfigFile = "configuration.yaml"

// Profiles lists the profiles of the repository at root.
func Profiles(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "components", "profiles"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

func loadProfiles(root string, names []string) (*profile, error) {
	p := &profile{componentsDir: filepath.Join(root, "components")}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || n == "redis" || n == "default" {
			continue // components/ itself
		}
		dir := filepath.Join(p.componentsDir, "profiles", n)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			all, _ := Profiles(root)
			return nil, fmt.Errorf("no component profile %q (have: redis, %s)", n, strings.Join(all, ", "))
		}
		p.list = append(p.list, n)
		p.dirs = append(p.dirs, dir)
		if cfg := filepath.Join(dir, ProfileConfigFile); exists(cfg) {
			p.configs = append(p.configs, cfg)
		}
	}
	return p, nil
}

func (p *profile) names() []string {
	if p == nil || len(p.list) == 0 {
		return []string{"redis"}
	}
	return slices.Clone(p.list)
}

// apply writes components/ with the profiles' files over it into stateDir
// and points the apps that load components/ at the copy. The copy's folder
// is named after its content, and written under a temporary name then
// renamed, because Tilt starts one runner per app at once.
func (p *profile) apply(apps []*app, stateDir string) error {
	if p == nil || len(p.list) == 0 {
		return nil
	}
	base, err := readResourceDir(p.componentsDir)
	if err != nil {
		return err
	}
	merged := map[string]*resourceFile{}
	for _, f := range base {
		merged[filepath.Base(f.path)] = f
	}
	for _, dir := range p.dirs {
		files, err := readResourceDir(dir)
		if err != nil {
			return err
		}
		for _, f := range files {
			name := filepath.Base(f.path)
			if name == ProfileConfigFile {
				continue
			}
			if old, ok := merged[name]; ok {
				if err := sameComponents(old, f); err != nil {
					return err
				}
			}
			merged[name] = f
		}
	}
	names := make([]string, 0, len(merged))
	for n := range merged {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := os.ReadFile(merged[n].path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%s\x00", n, b)
	}
	parent := filepath.Join(stateDir, "profile")
	out := filepath.Join(parent, strings.Join(p.list, "+")+"-"+hex.EncodeToString(h.Sum(nil))[:12])
	if !exists(out) {
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return err
		}
		tmp, err := os.MkdirTemp(parent, ".tmp-")
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := merged[n].write(filepath.Join(tmp, n)); err != nil {
				return err
			}
		}
		if err := os.Rename(tmp, out); err != nil {
			os.RemoveAll(tmp) // another runner wrote the same folder first
			if !exists(out) {
				return err
			}
		}
	}
	for _, a := range apps {
		for i, dir := range a.ResourcesPaths {
			if dir == p.componentsDir {
				a.ResourcesPaths[i] = out
			}
		}
	}
	return nil
}

// sameComponents checks that a profile file replacing a default one defines
// the same component names: the services find components by name.
func sameComponents(old, repl *resourceFile) error {
	names := func(f *resourceFile) []string {
		var n []string
		for _, d := range f.docs {
			if d.kind() == "Component" {
				n = append(n, d.name())
			}
		}
		sort.Strings(n)
		return n
	}
	if a, b := names(old), names(repl); !slices.Equal(a, b) {
		return fmt.Errorf("%s replaces %s but defines components %v instead of %v", repl.path, old.path, b, a)
	}
	return nil
}
