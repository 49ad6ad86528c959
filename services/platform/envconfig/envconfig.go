// Package envconfig fills a config struct from its defaults, then a file,
// then environment variables (the environment wins, as in the seed's
// ConfigManager), validates it, and renders it for the start-up log with
// secrets masked.
//
// The file is named by CONFIG_FILE and holds NAME=value lines, the same
// names as the environment; blank lines and lines starting with # are
// ignored; a name the struct does not read is an error.
//
//	type Config struct {
//		Port   int           `env:"APP_PORT" default:"8080" validate:"min=1,max=65535"`
//		Key    string        `env:"API_KEY" secret:"true"`
//		Wait   time.Duration `env:"WAIT" default:"5s"`
//		Admins []string      `env:"ADMIN_EMAILS"` // comma-separated
//	}
package envconfig

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"
	"go.uber.org/zap"
)

// Load fills the struct cfg points to from the environment and validates it.
// Every problem is reported at once, so a misconfigured service says all of
// what is wrong in one start.
func Load(cfg any) error {
	path := os.Getenv(FileVar)
	if path == "" {
		return load(cfg, os.LookupEnv)
	}
	file, err := readFile(path)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	walk(reflect.ValueOf(cfg).Elem(), func(f reflect.StructField, _ reflect.Value) { known[f.Tag.Get("env")] = true })
	for name := range file {
		if !known[name] {
			return fmt.Errorf("configuration: %s: %s is not a setting of this service", path, name)
		}
	}
	return load(cfg, func(name string) (string, bool) {
		if v, ok := os.LookupEnv(name); ok && v != "" {
			return v, true
		}
		v, ok := file[name]
		return v, ok
	})
}

// FileVar names the optional configuration file.
const FileVar = "CONFIG_FILE"

// readFile parses NAME=value lines.
func readFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	out := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("configuration: %s:%d: want NAME=value", path, i+1)
		}
		out[strings.TrimSpace(name)] = strings.TrimSpace(value)
	}
	return out, nil
}

func load(cfg any, lookup func(string) (string, bool)) error {
	v := reflect.ValueOf(cfg)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("envconfig: want a pointer to a struct, got %T", cfg)
	}
	var problems []string
	walk(v.Elem(), func(f reflect.StructField, fv reflect.Value) {
		name := f.Tag.Get("env")
		raw, ok := lookup(name)
		if !ok || raw == "" {
			raw, ok = f.Tag.Lookup("default")
		}
		if !ok {
			return
		}
		if err := set(fv, raw); err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q: %v", name, raw, err))
		}
	})
	if len(problems) == 0 {
		if err := validator.New().Struct(cfg); err != nil {
			if verrs, ok := err.(validator.ValidationErrors); ok {
				for _, fe := range verrs {
					f, _ := v.Elem().Type().FieldByName(fe.StructField())
					problems = append(problems, fmt.Sprintf("%s: fails %q", envName(f, fe.StructField()), fe.Tag()+paramSuffix(fe.Param())))
				}
			} else {
				problems = append(problems, err.Error())
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("configuration: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Fields renders cfg for a structured log line; fields tagged secret:"true"
// show only whether they are set.
func Fields(cfg any) []zap.Field {
	var out []zap.Field
	walk(reflect.ValueOf(cfg).Elem(), func(f reflect.StructField, fv reflect.Value) {
		name := f.Tag.Get("env")
		if f.Tag.Get("secret") == "true" {
			masked := "<unset>"
			if !fv.IsZero() {
				masked = "<set>"
			}
			out = append(out, zap.String(name, masked))
			return
		}
		if d, ok := fv.Interface().(time.Duration); ok {
			out = append(out, zap.String(name, d.String()))
			return
		}
		out = append(out, zap.Any(name, fv.Interface()))
	})
	return out
}

// walk visits every field with an env tag, descending into nested structs.
func walk(v reflect.Value, visit func(reflect.StructField, reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f, fv := t.Field(i), v.Field(i)
		if !f.IsExported() {
			continue
		}
		if _, ok := f.Tag.Lookup("env"); ok {
			visit(f, fv)
			continue
		}
		if fv.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			walk(fv, visit)
		}
	}
}

func set(fv reflect.Value, raw string) error {
	if fv.Type() == reflect.TypeOf(time.Duration(0)) {
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}
		fv.SetInt(int64(d))
		return nil
	}
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(raw)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer")
		}
		fv.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("not a boolean")
		}
		fv.SetBool(b)
	case reflect.Float64:
		x, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return fmt.Errorf("not a number")
		}
		fv.SetFloat(x)
	case reflect.Slice:
		if fv.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported slice type %s", fv.Type())
		}
		var items []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		fv.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported type %s", fv.Type())
	}
	return nil
}

func envName(f reflect.StructField, fallback string) string {
	if n := f.Tag.Get("env"); n != "" {
		return n
	}
	return fallback
}

func paramSuffix(p string) string {
	if p == "" {
		return ""
	}
	return "=" + p
}
