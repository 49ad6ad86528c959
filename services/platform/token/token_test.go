package token_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/daprshop/platform/token"
)

func keys(t *testing.T) (ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()
	privPEM, pubPEM, err := token.GenerateKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := token.ParsePrivateKey(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := token.ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

func TestVerify(t *testing.T) {
	priv, pub := keys(t)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	v := token.NewVerifier(pub, "iss", "aud")
	good, _, err := token.NewIssuer(priv, "iss", "aud", time.Hour).Issue(token.Subject{ID: "u1", Role: "customer", Email: "a@b.co"})
	if err != nil {
		t.Fatal(err)
	}

	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now()
	base := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "u1", "role": "admin", "iss": "iss", "aud": "aud", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	with := func(k string, val any) jwt.MapClaims { c := base(); c[k] = val; return c }
	without := func(k string) jwt.MapClaims { c := base(); delete(c, k); return c }
	// alg "none": header {"alg":"none"} and an empty signature.
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u1","role":"admin","iss":"iss","aud":"aud","exp":9999999999}`)) + "."
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"u1","role":"admin","iss":"iss","aud":"aud","exp":9999999999}`)) + "." + parts[2]

	tests := []struct {
		name string
		raw  string
		ok   bool
	}{
		{"issued by us", good, true},
		{"signed by another key", sign(jwt.SigningMethodEdDSA, otherPriv, base()), false},
		{"alg none", none, false},
		{"HS256 keyed with the public key", sign(jwt.SigningMethodHS256, []byte(pub), base()), false},
		{"payload swapped under a valid signature", tampered, false},
		{"expired", sign(jwt.SigningMethodEdDSA, priv, with("exp", now.Add(-time.Hour).Unix())), false},
		{"no expiry", sign(jwt.SigningMethodEdDSA, priv, without("exp")), false},
		{"other issuer", sign(jwt.SigningMethodEdDSA, priv, with("iss", "evil")), false},
		{"other audience", sign(jwt.SigningMethodEdDSA, priv, with("aud", "other")), false},
		{"no role", sign(jwt.SigningMethodEdDSA, priv, without("role")), false},
		{"not a JWT", "hello", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(tt.raw)
			if tt.ok {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				if c.Subject != "u1" || c.Role != "customer" || c.Email != "a@b.co" {
					t.Errorf("claims = %+v", c)
				}
				return
			}
			if !errors.Is(err, token.ErrInvalid) {
				t.Fatalf("want ErrInvalid, got %v", err)
			}
		})
	}
}

func TestIssuedTokenCarriesKeyIDAndClaims(t *testing.T) {
	priv, pub := keys(t)
	raw, exp, err := token.NewIssuer(priv, "iss", "aud", 15*time.Minute).Issue(token.Subject{ID: "u1", Role: "admin", SessionVersion: 7})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := token.NewVerifier(pub, "iss", "aud").Verify(raw); err != nil || c.SessionVersion != 7 {
		t.Errorf("verified claims %+v (%v): want session version 7", c, err)
	}
	if d := time.Until(exp); d < 14*time.Minute || d > 15*time.Minute {
		t.Errorf("expiry in %v, want ~15m", d)
	}
	tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Header["kid"] != token.KeyID(pub) || tok.Header["alg"] != "EdDSA" {
		t.Errorf("header = %v", tok.Header)
	}
	for _, claim := range []string{"sub", "role", "sv", "iss", "aud", "iat", "exp", "jti"} {
		if _, ok := tok.Claims.(jwt.MapClaims)[claim]; !ok {
			t.Errorf("claim %s missing", claim)
		}
	}
}
