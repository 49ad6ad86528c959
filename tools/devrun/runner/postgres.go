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

func pgExec(ctx context.Context, connString, sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql, args...)
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

// ensureConfigTables creates what Dapr's PostgreSQL configuration store
// needs and does not create itself: the table (the component refuses to
// start without it) and a trigger that announces every insert and update on
// the component's notifyChannel, in the payload the component reads.
func (r *Run) ensureConfigTables(ctx context.Context) error {
	comps, err := r.components()
	if err != nil {
		return err
	}
	for _, c := range comps {
		if c.componentType() != "configuration.postgresql" {
			continue
		}
		cs, _ := c.meta("connectionString")
		table, _ := c.meta("table")
		channel, _ := c.meta("notifyChannel")
		if table == "" || channel == "" {
			return fmt.Errorf("component %s: set table and notifyChannel", c.name())
		}
		if err := pgExec(ctx, cs, configTableDDL(table, channel)); err != nil {
			return fmt.Errorf("component %s: create table %s and its trigger: %w", c.name(), table, err)
		}
	}
	return nil
}

// configTableDDL is idempotent: it may run at every start.
func configTableDDL(table, channel string) string {
	t := pgx.Identifier{table}.Sanitize()
	fn := pgx.Identifier{table + "_notify"}.Sanitize()
	return `CREATE TABLE IF NOT EXISTS ` + t + ` (key TEXT PRIMARY KEY, value TEXT NOT NULL, version TEXT NOT NULL, metadata JSON NOT NULL DEFAULT '{}');
CREATE OR REPLACE FUNCTION ` + fn + `() RETURNS TRIGGER AS $$
BEGIN
  PERFORM pg_notify('` + strings.ReplaceAll(channel, "'", "") + `', json_build_object('table', TG_TABLE_NAME, 'action', TG_OP, 'data', row_to_json(NEW))::text);
  RETURN NULL;
END; $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS ` + fn + ` ON ` + t + `;
CREATE TRIGGER ` + fn + ` AFTER INSERT OR UPDATE ON ` + t + ` FOR EACH ROW EXECUTE FUNCTION ` + fn + `();`
}

// setPostgresConfig upserts key in the configuration table; an empty value
// stays a row with an empty value, which the services read as "not set"
// (a DELETE would announce the old row).
func setPostgresConfig(ctx context.Context, cs, table, key, value string) error {
	return pgExec(ctx, cs, `INSERT INTO `+pgx.Identifier{table}.Sanitize()+` (key, value, version) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version`, key, value, time.Now().UTC().Format(time.RFC3339Nano))
}
