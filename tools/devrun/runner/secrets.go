package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/daprshop/platform/token"
)

// DevSecretsFile is where the local file secret store reads secrets, relative
// to the repository root (see components/secretstore.yaml). It is git-ignored.
const DevSecretsFile = "secrets/dev-secrets.json"

// EnsureDevSecrets creates the development secrets on first use: a fresh
// Ed25519 key pair for access tokens. An existing file is left alone, so
// tokens stay valid across runs.
func EnsureDevSecrets(root string, out io.Writer) error {
	path := filepath.Join(root, DevSecretsFile)
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	priv, pub, err := token.GenerateKeyPair()
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(map[string]string{
		"jwt-signing-key": string(priv),
		"jwt-public-key":  string(pub),
	}, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(out, "generated development JWT keys into %s (git-ignored; delete it to rotate)\n", DevSecretsFile)
	return nil
}
