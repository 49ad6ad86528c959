package adapters

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/daprshop/platform/sidecar"
	"github.com/daprshop/platform/token"
)

// ErrNotReady means the verification key has not been loaded yet.
var ErrNotReady = errors.New("token verification key not loaded yet")

// SecretVerifier verifies tokens with the public key read from the Dapr
// secret store. The gateway starts before its sidecar is ready, so the key is
// loaded in the background; until then Verify fails with ErrNotReady.
type SecretVerifier struct {
	v        atomic.Pointer[token.Verifier]
	iss, aud string
}

// NewSecretVerifier accepts tokens issued by iss for aud.
func NewSecretVerifier(iss, aud string) *SecretVerifier {
	return &SecretVerifier{iss: iss, aud: aud}
}

// Load reads the PEM public key secret name from store, waiting for the sidecar until ctx ends.
func (s *SecretVerifier) Load(ctx context.Context, secrets sidecar.SecretGetter, store, name string) error {
	pemKey, err := sidecar.WaitForSecret(ctx, secrets, store, name)
	if err != nil {
		return err
	}
	key, err := token.ParsePublicKey([]byte(pemKey))
	if err != nil {
		return fmt.Errorf("secret %q: %w", name, err)
	}
	s.v.Store(token.NewVerifier(key, s.iss, s.aud))
	return nil
}

// Verify checks a raw token.
func (s *SecretVerifier) Verify(raw string) (*token.Claims, error) {
	v := s.v.Load()
	if v == nil {
		return nil, ErrNotReady
	}
	return v.Verify(raw)
}

// Ready is the readiness check: the key is loaded.
func (s *SecretVerifier) Ready(context.Context) error {
	if s.v.Load() == nil {
		return ErrNotReady
	}
	return nil
}
