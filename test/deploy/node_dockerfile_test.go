package deploy

import (
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// nodeApps are dapr.yaml's apps run by Node.js (command `node ...`): the
// ones deploy/docker/node.Dockerfile builds.
func nodeApps(t *testing.T) []string {
	var ids []string
	for _, a := range runFileApps(t) {
		if len(a.Command) > 0 && a.Command[0] == "node" {
			ids = append(ids, a.AppID)
		}
	}
	return ids
}

var (
	nodeDockerfile = filepath.Join(repoRoot, "deploy", "docker", "node.Dockerfile")
	// A bare module specifier in an import, export ... from, import() or require().
	importSpec = regexp.MustCompile(`(?m)(?:\bfrom\s*|^\s*import\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]`)
	// An instruction argument that looks like a credential.
	secretish = regexp.MustCompile(`(?i)(token|secret|password|passwd|api[_-]?key|private)`)

	jsFile         = regexp.MustCompile(`\.(m|c)?js$`)
	fromLine       = regexp.MustCompile(`(?m)^FROM\s+(\S+)`)
	leadingDigits  = regexp.MustCompile(`^\d+`)
	distrolessNode = regexp.MustCompile(`^nodejs(\d+)-`) // gcr.io/distroless/nodejs20-debian12
	enginesMin     = regexp.MustCompile(`^>=\s*(\d+)`)   // package.json engines.node
	nodeVersion    = regexp.MustCompile(`^v(\d+)`)       // node --version
)

// The Node.js image cannot be built here (no Docker engine), so this test
// runs its build stage as Docker would, for each Node.js app of dapr.yaml:
// the COPY steps from the repository into an empty folder (the build arg
// SERVICE substituted), the ENV, and the RUN (`npm ci --omit=dev` from the
// committed lockfile, with the npm registry). Then it checks the tree the
// final stage copies: every production package of the lockfile installed,
// no development one, the entrypoint's file present, and every bare import
// of src/ resolving to an installed package or a Node.js builtin (an import
// of a development dependency would work under `npm ci` and fail in the
// image).
func TestNodeDockerfileBuildStage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs npm ci")
	}
	apps := nodeApps(t)
	if len(apps) == 0 {
		t.Fatal("dapr.yaml runs no Node.js app (the reviews service is one)")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatal("npm is needed to run the Node.js image's build stage (.ci/run installs Debian's nodejs and npm)")
	}
	stages := parseDockerfile(t, nodeDockerfile)
	build := stages["build"]
	if build == nil {
		t.Fatal("no stage named build")
	}
	builtins := nodeBuiltins(t)
	for _, svc := range apps {
		t.Run(svc, func(t *testing.T) {
			ctx := t.TempDir()
			workdir := ctx
			env := append(os.Environ(), "SERVICE="+svc)
			ran := false
			for _, in := range build {
				args := strings.ReplaceAll(strings.ReplaceAll(in.args, "${SERVICE}", svc), "$SERVICE", svc)
				switch in.op {
				case "WORKDIR":
					workdir = filepath.Join(ctx, args)
					if err := os.MkdirAll(workdir, 0o755); err != nil {
						t.Fatal(err)
					}
				case "COPY":
					f := strings.Fields(args)
					dst := f[len(f)-1]
					for _, src := range f[:len(f)-1] {
						if !strings.HasPrefix(src, "services/"+svc+"/") {
							t.Errorf("COPY %s: the build stage copies only the service's own files", src)
						}
						copyInto(t, filepath.Join(repoRoot, src), filepath.Join(workdir, dst), strings.HasSuffix(dst, "/"))
					}
				case "ENV":
					env = append(env, strings.Fields(args)...)
				case "RUN":
					run := mountFlag.ReplaceAllString(args, "")
					if !strings.Contains(run, "npm ci") || !strings.Contains(run, "--omit=dev") {
						t.Fatalf("the build stage's RUN is not npm ci --omit=dev: %q", run)
					}
					cmd := exec.Command("sh", "-c", run)
					cmd.Dir = workdir
					cmd.Env = env
					if b, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("%s: %v\n%s", run, err, b)
					}
					ran = true
				}
			}
			if !ran {
				t.Fatal("the build stage runs no npm ci")
			}
			if _, err := os.Stat(filepath.Join(ctx, "app")); err != nil {
				t.Fatalf("the stage's tree is not /app, which the final stage copies: %v", err)
			}

			// The lockfile's packages: production ones in, development ones out.
			var lock struct {
				Packages map[string]struct {
					Dev, Optional bool
				} `json:"packages"`
			}
			b, err := os.ReadFile(filepath.Join(workdir, "package-lock.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &lock); err != nil {
				t.Fatal(err)
			}
			prod, dev := 0, 0
			for path, p := range lock.Packages {
				if path == "" {
					continue
				}
				_, err := os.Stat(filepath.Join(workdir, path, "package.json"))
				switch {
				case p.Dev:
					dev++
					if err == nil {
						t.Errorf("development package %s is in the image", path)
					}
				case !p.Optional:
					prod++
					if err != nil {
						t.Errorf("production package %s is not installed: %v", path, err)
					}
				}
			}

			// The entrypoint, and what src/ imports.
			entry := filepath.Join(workdir, "src", "main.js")
			if _, err := os.Stat(entry); err != nil {
				t.Errorf("the entrypoint src/main.js is not in the image: %v", err)
			}
			imports := 0
			err = filepath.WalkDir(filepath.Join(workdir, "src"), func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || !jsFile.MatchString(p) {
					return err
				}
				src, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				for _, m := range importSpec.FindAllStringSubmatch(string(src), -1) {
					spec := m[1]
					if strings.HasPrefix(spec, ".") || strings.HasPrefix(spec, "/") || strings.HasPrefix(spec, "node:") || builtins[strings.Split(spec, "/")[0]] {
						continue
					}
					imports++
					parts := strings.Split(spec, "/")
					pkg := parts[0]
					if strings.HasPrefix(spec, "@") && len(parts) > 1 {
						pkg = parts[0] + "/" + parts[1]
					}
					if _, err := os.Stat(filepath.Join(workdir, "node_modules", pkg, "package.json")); err != nil {
						rel, _ := filepath.Rel(workdir, p)
						t.Errorf("%s imports %q, which the image does not have (a development dependency?)", rel, spec)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d production packages installed, %d development ones left out, %d bare imports of src/ resolved", svc, prod, dev, imports)
		})
	}
}

// TestNodeDockerfileStages checks the Node.js image's stages without
// building them: tagged (never latest) base images of one Node.js major
// version, which the app's package.json accepts; a numeric non-root user
// in the stages that run; the entrypoint distroless' node running
// src/main.js; the production image the default (last) stage, on the
// non-debug distroless runtime; nothing that looks like a credential in an
// ENV, ARG or LABEL.
func TestNodeDockerfileStages(t *testing.T) {
	stages := parseDockerfile(t, nodeDockerfile)
	b, err := os.ReadFile(nodeDockerfile)
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	for _, m := range fromLine.FindAllStringSubmatch(string(b), -1) {
		froms = append(froms, m[1])
	}
	if len(froms) == 0 || !strings.Contains(froms[len(froms)-1], "distroless/nodejs") || strings.Contains(froms[len(froms)-1], "debug") {
		t.Errorf("the last stage (the default target, the image) is FROM %v: want distroless' nodejs runtime, not its debug variant", froms)
	}
	majors := map[string]bool{}
	for _, f := range froms {
		name, tag, ok := strings.Cut(f[strings.LastIndex(f, "/")+1:], ":")
		if !ok || tag == "" || tag == "latest" {
			t.Errorf("FROM %s: not pinned to a tag", f)
		}
		if name == "node" {
			majors[leadingDigits.FindString(tag)] = true
		}
		if m := distrolessNode.FindStringSubmatch(name); m != nil {
			majors[m[1]] = true
		}
	}
	if len(majors) != 1 || majors[""] {
		t.Errorf("the stages' Node.js major versions %v: want one", majors)
	}
	for _, svc := range nodeApps(t) {
		var pkg struct {
			Engines struct{ Node string } `json:"engines"`
		}
		pb, err := os.ReadFile(filepath.Join(repoRoot, "services", svc, "package.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(pb, &pkg); err != nil {
			t.Fatal(err)
		}
		for major := range majors {
			m := enginesMin.FindStringSubmatch(pkg.Engines.Node)
			if m == nil || atoi(m[1]) > atoi(major) {
				t.Errorf("services/%s/package.json engines.node %q: the image runs Node.js %s", svc, pkg.Engines.Node, major)
			}
		}
	}
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		local := nodeVersion.FindStringSubmatch(string(out))
		if local != nil && !majors[local[1]] {
			t.Logf("note: this machine's Node.js is %s; the image's is %v (npm ci installs the same lockfile either way)", strings.TrimSpace(string(out)), majors)
		}
	}
	for name, ins := range stages {
		var user, entry string
		for _, in := range ins {
			switch in.op {
			case "USER":
				user = in.args
			case "ENTRYPOINT":
				entry = in.args
			case "ENV", "ARG", "LABEL":
				if secretish.MatchString(in.args) {
					t.Errorf("stage %s: %s %s looks like a credential baked into the image", name, in.op, in.args)
				}
			case "COPY":
				if name != "build" && !strings.Contains(in.args, "--from=build") {
					t.Errorf("stage %s: COPY %s: only the build stage's tree goes into the runtime stages", name, in.args)
				}
			}
		}
		if name == "build" {
			continue
		}
		// The chart's pods run as 65532 (runAsUser), distroless' nonroot.
		if user != "65532:65532" {
			t.Errorf("stage %s: USER %q: want 65532:65532, numeric and non-root as the chart's runAsUser", name, user)
		}
		if entry != `["/nodejs/bin/node", "src/main.js"]` {
			t.Errorf("stage %s: ENTRYPOINT %s", name, entry)
		}
	}
	if stages["final"] == nil || stages["dev"] == nil {
		t.Errorf("stages %v: want build, dev (Tilt) and the final one", slices.Sorted(maps.Keys(stages)))
	}
}

// nodeBuiltins lists Node.js' builtin module names.
func nodeBuiltins(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command("node", "-p", `require("module").builtinModules.join(" ")`).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	m := map[string]bool{}
	for _, n := range strings.Fields(string(out)) {
		m[n] = true
	}
	return m
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
