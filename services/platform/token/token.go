// Package token issues and verifies the platform's access tokens: JWTs signed
// with Ed25519 (EdDSA). The user service holds the private key; the gateway
// holds only the public key, so a compromised gateway cannot mint tokens.
package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the registered claims plus the caller's role and email, and
// the account's session version when the token was issued: the gateway
// refuses a token whose version is no longer the account's (after a role
// or password change, a logout, a deletion).
type Claims struct {
	Role           string `json:"role"`
	Email          string `json:"email,omitempty"`
	SessionVersion int64  `json:"sv"`
	jwt.RegisteredClaims
}

// Subject is whom a token is issued to.
type Subject struct {
	ID             string
	Role           string
	Email          string
	SessionVersion int64
}

// Issuer signs tokens.
type Issuer struct {
	key      ed25519.PrivateKey
	keyID    string
	issuer   string
	audience string
	ttl      time.Duration
	now      func() time.Time
}

// NewIssuer returns an Issuer whose tokens live for ttl.
func NewIssuer(key ed25519.PrivateKey, issuer, audience string, ttl time.Duration) *Issuer {
	return &Issuer{
		key: key, keyID: KeyID(key.Public().(ed25519.PublicKey)),
		issuer: issuer, audience: audience, ttl: ttl, now: time.Now,
	}
}

// Issue returns a signed token for the subject and when it expires.
func (i *Issuer) Issue(sub Subject) (string, time.Time, error) {
	now := i.now().UTC().Truncate(time.Second)
	exp := now.Add(i.ttl)
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, Claims{
		Role:           sub.Role,
		Email:          sub.Email,
		SessionVersion: sub.SessionVersion,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   sub.ID,
			Issuer:    i.issuer,
			Audience:  jwt.ClaimStrings{i.audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        base64.RawURLEncoding.EncodeToString(jti[:]),
		},
	})
	t.Header["kid"] = i.keyID
	s, err := t.SignedString(i.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token: %w", err)
	}
	return s, exp, nil
}

// Verifier checks tokens.
type Verifier struct {
	key    ed25519.PublicKey
	parser *jwt.Parser
}

// ErrInvalid wraps every reason a token is refused.
var ErrInvalid = errors.New("invalid token")

// NewVerifier accepts only EdDSA tokens from issuer for audience, with an
// expiry; "alg: none", HMAC confusion and unsigned tokens are refused.
func NewVerifier(key ed25519.PublicKey, issuer, audience string) *Verifier {
	return &Verifier{
		key: key,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithAudience(audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(30*time.Second),
		),
	}
}

// Verify returns the claims of a valid token, or an error wrapping ErrInvalid
// that says why (for the log; clients get a generic 401).
func (v *Verifier) Verify(raw string) (*Claims, error) {
	var c Claims
	_, err := v.parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return v.key, nil })
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if c.Subject == "" || c.Role == "" {
		return nil, fmt.Errorf("%w: missing subject or role", ErrInvalid)
	}
	return &c, nil
}

// KeyID is a short, stable identifier of a public key (its SHA-256, base64url),
// sent as the JWT "kid" so keys can be rotated.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// GenerateKeyPair returns a new key pair as PKCS#8 and PKIX PEM.
func GenerateKeyPair() (privatePEM, publicPEM []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), nil
}

// ParsePrivateKey reads an Ed25519 private key from PKCS#8 PEM.
func ParsePrivateKey(pemBytes []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("private key: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key: want Ed25519, got %T", k)
	}
	return ek, nil
}

// ParsePublicKey reads an Ed25519 public key from PKIX PEM.
func ParsePublicKey(pemBytes []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("public key: no PEM block")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key: want Ed25519, got %T", k)
	}
	return ek, nil
}
