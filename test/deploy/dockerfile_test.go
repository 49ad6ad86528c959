package deploy

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct{ op, args string }

// parseDockerfile returns the instructions of each stage, by stage name
// (the final stage is "final").
func parseDockerfile(t *testing.T, path string) map[string][]instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stages := map[string][]instruction{}
	stage, line := "", ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if line == "" && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if strings.HasSuffix(l, `\`) {
			line += strings.TrimSuffix(l, `\`) + " "
			continue
		}
		line += l
		op, args, _ := strings.Cut(line, " ")
		line = ""
		op = strings.ToUpper(op)
		if op == "FROM" {
			stage = "final"
			if f := strings.Fields(args); len(f) == 3 && strings.EqualFold(f[1], "AS") {
				stage = f[2]
			}
			stages[stage] = nil
		}
		stages[stage] = append(stages[stage], instruction{op, strings.TrimSpace(args)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return stages
}

var mountFlag = regexp.MustCompile(`--mount=\S+\s*`)

// The Dockerfile cannot be built here (no Docker engine), so this test runs
// its build stage as Docker would: the COPY steps from the repository into
// an empty context folder, the ENV, then the RUN command for each service,
// and checks that each result is a static binary. It also checks the final
// stage: a numeric non-root user and the built binary as entrypoint.
func TestDockerfileBuildStage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every service")
	}
	stages := parseDockerfile(t, filepath.Join(repoRoot, "deploy", "docker", "Dockerfile"))
	build := stages["build"]
	if build == nil {
		t.Fatal("no stage named build")
	}
	ctx := t.TempDir()
	out := t.TempDir()
	workdir := ctx
	env := os.Environ()
	var run string
	for _, in := range build {
		switch in.op {
		case "WORKDIR":
			workdir = filepath.Join(ctx, in.args)
			if err := os.MkdirAll(workdir, 0o755); err != nil {
				t.Fatal(err)
			}
		case "COPY":
			f := strings.Fields(in.args)
			dst := f[len(f)-1]
			for _, src := range f[:len(f)-1] {
				copyInto(t, filepath.Join(repoRoot, src), filepath.Join(workdir, dst), strings.HasSuffix(dst, "/"))
			}
		case "ENV":
			env = append(env, strings.Fields(in.args)...)
		case "RUN":
			run = mountFlag.ReplaceAllString(in.args, "")
		}
	}
	if !strings.Contains(run, "go build") || !strings.Contains(run, "/out/app") {
		t.Fatalf("the build stage's RUN is not a go build into /out/app: %q", run)
	}
	run = strings.ReplaceAll(run, "/out/app", filepath.Join(out, "app"))
	for _, svc := range []string{"gateway", "user", "product", "order", "payment", "notification"} {
		t.Run(svc, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", run)
			cmd.Dir = workdir
			cmd.Env = append(env, "SERVICE="+svc, "GOWORK=") // the context's own go.work, as in the image
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", run, err, b)
			}
			bin, err := elf.Open(filepath.Join(out, "app"))
			if err != nil {
				t.Fatal(err)
			}
			defer bin.Close()
			for _, p := range bin.Progs {
				if p.Type == elf.PT_INTERP {
					t.Fatal("the binary is dynamically linked: it would not start on a static distroless base")
				}
			}
		})
	}
	final := stages["final"]
	var user, entry, base string
	for _, in := range final {
		switch in.op {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entry = in.args
		case "FROM":
			base = in.args
		}
	}
	if !regexp.MustCompile(`^[1-9][0-9]*:[1-9][0-9]*$`).MatchString(user) {
		t.Errorf("final stage USER %q: want numeric, non-root uid:gid", user)
	}
	if !strings.Contains(base, "static") || entry != `["/app"]` {
		t.Errorf("final stage FROM %q ENTRYPOINT %q", base, entry)
	}
	ignore, err := os.ReadFile(filepath.Join(repoRoot, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	for _, must := range []string{"secrets", ".bin", ".git"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(must) + `$`).Match(ignore) {
			t.Errorf(".dockerignore does not keep %s out of the build context", must)
		}
	}
}

// copyInto copies a file or a folder as Docker's COPY does: a folder's
// contents go into dst; a file goes into dst if dst ends in a slash.
func copyInto(t *testing.T, src, dst string, dstIsDir bool) {
	t.Helper()
	st, err := os.Stat(src)
	if err != nil {
		t.Fatalf("COPY source: %v", err)
	}
	if !st.IsDir() {
		if dstIsDir {
			dst = filepath.Join(dst, filepath.Base(src))
		}
		copyFile(t, src, dst)
		return
	}
	err = filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		copyFile(t, p, filepath.Join(dst, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
