package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/daprshop/platform/redisdb"
)

// ConfigStoreName is the configuration store component the services read
// their live keys from (components/configstore.yaml).
const ConfigStoreName = "configstore"

// SetConfig sets key to value in the local configuration store as the given
// profiles define it (an empty value removes the key: the services go back
// to their start-up value). It is `make config KEY=... VALUE=...`.
func SetConfig(root string, profiles []string, key, value string) error {
	p, err := loadProfiles(root, profiles)
	if err != nil {
		return err
	}
	var store resource
	for _, dir := range append([]string{p.componentsDir}, p.dirs...) {
		files, err := readResourceDir(dir)
		if err != nil {
			return err
		}
		for _, f := range files {
			for _, d := range f.docs {
				if d.kind() == "Component" && d.name() == ConfigStoreName {
					store = d // later profiles win, as when running
				}
			}
		}
	}
	if store == nil {
		return fmt.Errorf("no component %q in %s or the profiles", ConfigStoreName, filepath.Join(root, "components"))
	}
	return setInStore(store, key, value)
}

// SetConfig sets key in the run's own configuration store (an isolated
// run's database), as SetConfig does for `make run`.
func (r *Run) SetConfig(key, value string) error {
	comps, err := r.components()
	if err != nil {
		return err
	}
	for _, c := range comps {
		if c.kind() == "Component" && c.name() == ConfigStoreName {
			return setInStore(c, key, value)
		}
	}
	return fmt.Errorf("the run has no component %q", ConfigStoreName)
}

func setInStore(store resource, key, value string) error {
	switch typ := store.componentType(); typ {
	case "configuration.redis":
	case "configuration.postgresql":
		cs, _ := store.meta("connectionString")
		table, _ := store.meta("table")
		return setPostgresConfig(context.Background(), cs, table, key, value)
	default:
		return fmt.Errorf("the configuration store is %s: set %s in it with that store's own tools (see README, \"Live configuration\")", typ, key)
	}
	host, _ := store.meta("redisHost")
	db := 0
	if v, ok := store.meta("redisDB"); ok {
		var err error
		if db, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("component %q: redisDB %q", ConfigStoreName, v)
		}
	}
	if value == "" {
		return redisdb.Del(host, db, key)
	}
	return redisdb.Set(host, db, key, value)
}
