package runner

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// isolatePostgres gives an isolated run a PostgreSQL database of its own:
// every state.postgresql (or configuration.postgresql) component's
// connection string names a database created for the run, dropped by Stop.
// Tables are shared otherwise (a tablePrefix is per store, not per run), and
// the machine's database is shared with other test runs.
func (r *Run) isolatePostgres(ctx context.Context, runID string) error {
	comps, err := r.components()
	if err != nil {
		return err
	}
	created := map[string]string{} // original connection string -> isolated one
	for _, c := range comps {
		if !strings.HasSuffix(c.componentType(), ".postgresql") {
			continue
		}
		cs, ok := c.meta("connectionString")
		if !ok || created[cs] != "" {
			continue
		}
		db := "daprshop_" + runID
		iso, err := withDatabase(cs, db)
		if err != nil {
			return fmt.Errorf("component %s: %w", c.name(), err)
		}
		if err := pgExec(ctx, cs, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
			return fmt.Errorf("create database %s for the isolated run: %w", db, err)
		}
		r.cleanups = append(r.cleanups, func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = pgExec(ctx, cs, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
		})
		created[cs] = iso
	}
	if len(created) == 0 {
		return nil
	}
	return r.rewriteComponents(r.stateDir+"/resources-postgres", func(c resource) {
		if cs, ok := c.meta("connectionString"); ok && created[cs] != "" && strings.HasSuffix(c.componentType(), ".postgresql") {
			c.setMeta("connectionString", created[cs])
		}
	})
}

func pgExec(ctx context.Context, connString, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

var dbnameKV = regexp.MustCompile(`(^|\s)dbname=\S+`)

// withDatabase returns a key=value or URL connection string naming db.
func withDatabase(cs, db string) (string, error) {
	if strings.Contains(cs, "://") {
		cfg, err := pgx.ParseConfig(cs)
		if err != nil {
			return "", err
		}
		i := strings.LastIndex(cs, "/"+cfg.Database)
		if cfg.Database == "" || i < 0 {
			return "", fmt.Errorf("no database in %q", cs)
		}
		return cs[:i+1] + db + cs[i+1+len(cfg.Database):], nil
	}
	if dbnameKV.MatchString(cs) {
		return dbnameKV.ReplaceAllString(cs, "${1}dbname="+db), nil
	}
	return cs + " dbname=" + db, nil
}
