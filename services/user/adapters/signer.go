package adapters

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/daprshop/platform/sidecar"
	"github.com/daprshop/platform/token"
	"github.com/daprshop/user/app"
)

// SecretSigner issues tokens with the signing key read from the Dapr secret
// store. The key is loaded in the background because the service starts
// before its sidecar is ready; until then Issue fails with app.ErrNotReady
// and the readiness check fails.
type SecretSigner struct {
	issuer   atomic.Pointer[token.Issuer]
	iss, aud string
	ttl      time.Duration
}

// NewSecretSigner returns a signer whose tokens name iss and aud and live for ttl.
func NewSecretSigner(iss, aud string, ttl time.Duration) *SecretSigner {
	return &SecretSigner{iss: iss, aud: aud, ttl: ttl}
}

// Load reads the PEM private key secret name from store, waiting for the sidecar until ctx ends.
func (s *SecretSigner) Load(ctx context.Context, secrets sidecar.SecretGetter, store, name string) error {
	pemKey, err := sidecar.WaitForSecret(ctx, secrets, store, name)
	if err != nil {
		return err
	}
	key, err := token.ParsePrivateKey([]byte(pemKey))
	if err != nil {
		return fmt.Errorf("secret %q: %w", name, err)
	}
	s.issuer.Store(token.NewIssuer(key, s.iss, s.aud, s.ttl))
	return nil
}

// Issue signs a token.
func (s *SecretSigner) Issue(sub token.Subject) (string, time.Time, error) {
	i := s.issuer.Load()
	if i == nil {
		return "", time.Time{}, app.ErrNotReady
	}
	return i.Issue(sub)
}

// Ready is the readiness check: the key is loaded.
func (s *SecretSigner) Ready(context.Context) error {
	if s.issuer.Load() == nil {
		return fmt.Errorf("signing key not loaded yet")
	}
	return nil
}
