package envconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
)

type nested struct {
	Host string `env:"HOST" default:"127.0.0.1"`
}

type cfg struct {
	Port   int           `env:"PORT" default:"8080" validate:"min=1,max=65535"`
	Wait   time.Duration `env:"WAIT" default:"5s"`
	Debug  bool          `env:"DEBUG" default:"false"`
	Key    string        `env:"KEY" secret:"true"`
	Admins []string      `env:"ADMINS"`
	Name   string        `env:"NAME" validate:"required"`
	Nested nested
}

func lookupFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
		check   func(t *testing.T, c cfg)
	}{
		{"defaults", map[string]string{"NAME": "svc"}, nil, func(t *testing.T, c cfg) {
			if c.Port != 8080 || c.Wait != 5*time.Second || c.Debug || c.Nested.Host != "127.0.0.1" {
				t.Errorf("defaults not applied: %+v", c)
			}
		}},
		{"overrides and lists", map[string]string{"NAME": "svc", "PORT": "9000", "WAIT": "250ms", "DEBUG": "true",
			"ADMINS": " a@x.io, b@x.io ,", "HOST": "db"}, nil, func(t *testing.T, c cfg) {
			if c.Port != 9000 || c.Wait != 250*time.Millisecond || !c.Debug || c.Nested.Host != "db" {
				t.Errorf("overrides not applied: %+v", c)
			}
			if len(c.Admins) != 2 || c.Admins[0] != "a@x.io" || c.Admins[1] != "b@x.io" {
				t.Errorf("admins = %q", c.Admins)
			}
		}},
		{"every problem reported at once", map[string]string{"PORT": "x", "WAIT": "soon"}, []string{`PORT="x"`, `WAIT="soon"`}, nil},
		{"validation", map[string]string{"PORT": "70000"}, []string{"PORT", "NAME"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c cfg
			err := load(&c, lookupFrom(tt.env))
			if tt.wantErr != nil {
				if err == nil {
					t.Fatal("want an error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestFieldsMasksSecrets(t *testing.T) {
	c := cfg{Key: "hunter2", Name: "svc"}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range Fields(&c) {
		f.AddTo(enc)
	}
	if enc.Fields["KEY"] != "<set>" {
		t.Errorf("KEY logged as %v, want <set>", enc.Fields["KEY"])
	}
	for k, v := range enc.Fields {
		if s, ok := v.(string); ok && strings.Contains(s, "hunter2") {
			t.Errorf("secret leaked in field %s", k)
		}
	}
}

func TestLoadLayersDefaultsFileAndEnvironment(t *testing.T) {
	type cfg struct {
		A string        `env:"LAYER_A" default:"default-a"`
		B string        `env:"LAYER_B" default:"default-b"`
		C time.Duration `env:"LAYER_C" default:"1s"`
	}
	path := filepath.Join(t.TempDir(), "service.env")
	os.WriteFile(path, []byte("# comment\nLAYER_B=file-b\nLAYER_C = 2s\n"), 0o600)
	t.Setenv("CONFIG_FILE", path)
	t.Setenv("LAYER_C", "3s")
	var c cfg
	if err := Load(&c); err != nil {
		t.Fatal(err)
	}
	if c.A != "default-a" || c.B != "file-b" || c.C != 3*time.Second {
		t.Errorf("got %+v: want the default, the file's value, the environment's", c)
	}

	os.WriteFile(path, []byte("LAYER_TYPO=1\n"), 0o600)
	if err := Load(&c); err == nil || !strings.Contains(err.Error(), "LAYER_TYPO") {
		t.Errorf("unknown name in the file: %v", err)
	}
	os.WriteFile(path, []byte("just words\n"), 0o600)
	if err := Load(&c); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Errorf("a line that is not NAME=value: %v", err)
	}
}
