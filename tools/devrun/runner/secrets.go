package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/daprshop/platform/token"
)

// DevSecretsFile is where the local file secret store reads secrets, relative
// to the repository root (see components/secretstore.yaml). It is git-ignored.
const DevSecretsFile = "secrets/dev-secrets.json"

// CLIEnvFile is what a Dapr CLI user sources before `dapr run -f .`: the
// CLI gives daprd its own environment (not the run file's env, which goes to
// the apps), and the local components read their paths from it.
const CLIEnvFile = "secrets/dapr-cli.env"

// EnsureDevSecrets creates the development secrets on first use: a fresh
// Ed25519 key pair for access tokens, and SMTP credentials for the smtp
// profile's local mail server. Existing secrets are kept, so tokens stay
// valid across runs; secrets added by a newer version are filled in. It
// also (re)writes CLIEnvFile.
func EnsureDevSecrets(root string, out io.Writer) error {
	if err := writeCLIEnv(root); err != nil {
		return err
	}
	path := filepath.Join(root, DevSecretsFile)
	secrets := map[string]string{}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &secrets); err != nil {
			return fmt.Errorf("%s: %w", DevSecretsFile, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	var added []string
	if secrets["jwt-signing-key"] == "" || secrets["jwt-public-key"] == "" {
		priv, pub, err := token.GenerateKeyPair()
		if err != nil {
			return err
		}
		secrets["jwt-signing-key"], secrets["jwt-public-key"] = string(priv), string(pub)
		added = append(added, "JWT keys")
	}
	if secrets["smtp-user"] == "" {
		secrets["smtp-user"], secrets["smtp-password"] = "daprshop", newToken()
		added = append(added, "SMTP credentials")
	}
	if len(added) == 0 {
		return nil
	}
	b, err = json.MarshalIndent(secrets, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(out, "generated development %s into %s (git-ignored; delete it to rotate)\n", strings.Join(added, " and "), DevSecretsFile)
	return nil
}

// writeCLIEnv writes the variables devrun sets for every sidecar, for a
// shell to source before running the Dapr CLI.
func writeCLIEnv(root string) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	body := "# Source this before `dapr run -f .` or `dapr run` (see README, \"Other ways to run\").\n" +
		"# The Dapr CLI passes its own environment to daprd; the local components read\n" +
		"# their paths from it (envRef). Written by `make secrets`; safe to regenerate.\n"
	for _, kv := range [][2]string{
		{"DAPR_HOST_IP", "127.0.0.1"},
		{EnvSecretsFile, filepath.Join(root, DevSecretsFile)},
		{EnvOutbox, filepath.Join(root, ".outbox")},
		{EnvRunDir, filepath.Join(root, ".run")},
	} {
		body += fmt.Sprintf("export %s=%q\n", kv[0], kv[1])
	}
	if err := os.MkdirAll(filepath.Join(root, filepath.Dir(CLIEnvFile)), 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, CLIEnvFile), []byte(body), 0o600)
}
