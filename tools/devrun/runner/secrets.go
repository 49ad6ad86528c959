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
	"github.com/daprshop/platform/trustbundle"
)

// DevSecretsFile is where the local file secret store reads secrets, relative
// to the repository root (see components/secretstore.yaml). It is git-ignored.
const DevSecretsFile = "secrets/dev-secrets.json"

// CLIEnvFile is what a Dapr CLI user sources before `dapr run -f .`: the
// CLI gives daprd its own environment (not the run file's env, which goes to
// the apps), and the local components read their paths from it.
const CLIEnvFile = "secrets/dapr-cli.env"

// EnsureDevSecrets creates the development secrets on first use: a fresh
// Ed25519 key pair for access tokens, the bootstrap admin's password, and
// SMTP credentials for the smtp profile's local mail server. Existing secrets are kept, so tokens stay
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
	if secrets[AdminPasswordSecret] == "" {
		// 24 hex digits, then a letter and a digit: always within the
		// password policy (at least one of each).
		secrets[AdminPasswordSecret] = newToken()[:24] + "a1"
		added = append(added, "admin password")
	}
	if secrets["smtp-user"] == "" {
		secrets["smtp-user"], secrets["smtp-password"] = "daprshop", newToken()
		added = append(added, "SMTP credentials")
	}
	if len(added) == 0 {
		fmt.Fprintf(out, "bootstrap admin: %s, password: secret %q in %s\n", AdminEmail, AdminPasswordSecret, DevSecretsFile)
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
	fmt.Fprintf(out, "generated development %s into %s (git-ignored; delete it to rotate)\n", strings.Join(added, ", "), DevSecretsFile)
	fmt.Fprintf(out, "bootstrap admin: %s, password: secret %q in %s\n", AdminEmail, AdminPasswordSecret, DevSecretsFile)
	return nil
}

// The bootstrap admin the user service creates on its first start (its
// ADMIN_EMAIL default), with the password in this secret.
const (
	AdminEmail          = "admin@daprshop.local"
	AdminPasswordSecret = "admin-password"
)

// DevSecret reads one development secret of the repository at root.
func DevSecret(root, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, DevSecretsFile))
	if err != nil {
		return "", err
	}
	var secrets map[string]string
	if err := json.Unmarshal(b, &secrets); err != nil {
		return "", fmt.Errorf("%s: %w", DevSecretsFile, err)
	}
	v, ok := secrets[name]
	if !ok {
		return "", fmt.Errorf("%s has no secret %q", DevSecretsFile, name)
	}
	return v, nil
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
	tokens, err := EnsureTokens(root, nil)
	if err != nil {
		return err
	}
	trustRoot, err := trustbundle.Ensure(filepath.Join(root, TrustDir))
	if err != nil {
		return err
	}
	for _, kv := range [][2]string{
		{"DAPR_HOST_IP", "127.0.0.1"},
		{"DAPR_API_TOKEN", tokens[cliTokens].API},
		{"APP_API_TOKEN", tokens[cliTokens].App},
		{"DAPR_TRUST_ANCHORS", string(trustRoot)},
		{EnvSecretsFile, filepath.Join(root, DevSecretsFile)},
		{EnvOutbox, filepath.Join(root, ".outbox")},
		{EnvRunDir, filepath.Join(root, ".run")},
	} {
		// Single quotes keep the trust anchors' line breaks as they are.
		body += fmt.Sprintf("export %s='%s'\n", kv[0], strings.ReplaceAll(kv[1], "'", `'\''`))
	}
	if err := os.MkdirAll(filepath.Join(root, filepath.Dir(CLIEnvFile)), 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(root, CLIEnvFile), []byte(body), 0o600)
}

// TokensFile holds each app's two tokens (git-ignored, made on first use):
// the one its sidecar presents to it (APP_API_TOKEN) and the one it
// presents to its sidecar (DAPR_API_TOKEN). Distinct per app, so a token
// that leaks from one app opens no other sidecar. Delete it to rotate.
const TokensFile = "secrets/tokens.json"

// Tokens are one app's two tokens.
type Tokens struct {
	API string `json:"daprApiToken"`
	App string `json:"appApiToken"`
}

// cliTokens is the entry for the Dapr CLI, which gives every daprd the same
// environment: one pair for all apps (see CLIEnvFile).
const cliTokens = "(dapr-cli)"

// EnsureTokens returns the tokens of each app, making those missing.
func EnsureTokens(root string, appIDs []string) (map[string]Tokens, error) {
	path := filepath.Join(root, TokensFile)
	tokens := map[string]Tokens{}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &tokens); err != nil {
			return nil, fmt.Errorf("%s: %w", TokensFile, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	changed := false
	for _, id := range append(appIDs, cliTokens) {
		if t := tokens[id]; t.API == "" || t.App == "" {
			tokens[id] = Tokens{API: newToken(), App: newToken()}
			changed = true
		}
	}
	if !changed {
		return tokens, nil
	}
	b, err = json.MarshalIndent(tokens, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return tokens, os.WriteFile(path, b, 0o600)
}

// AdminPassword is the bootstrap admin's password of the run's secret
// store (AdminEmail logs in with it).
func (r *Run) AdminPassword() (string, error) { return DevSecret(r.root, AdminPasswordSecret) }
