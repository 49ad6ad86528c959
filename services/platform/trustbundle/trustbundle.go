// Package trustbundle makes the trust bundle Dapr's sentry issues workload
// certificates from, for local runs: a root CA and an issuer signed by it,
// written the way sentry's --issuer-credentials folder expects them
// (ca.crt, issuer.crt, issuer.key). In Kubernetes Dapr's control plane has
// its own; this is for self-hosted mode only.
package trustbundle

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Files sentry reads from its issuer-credentials folder.
const (
	RootFile      = "ca.crt"
	IssuerFile    = "issuer.crt"
	IssuerKeyFile = "issuer.key"
)

// Ensure returns the root certificate (PEM) of the bundle in dir, making a
// new bundle first if dir has none. A bundle is valid for a year: delete
// the folder to rotate it (every sidecar then needs a restart).
func Ensure(dir string) ([]byte, error) {
	root, err := os.ReadFile(filepath.Join(dir, RootFile))
	if err == nil {
		return root, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return create(dir)
}

func create(dir string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	now := time.Now()
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"daprshop local"}, CommonName: "cluster.local"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	rootCert, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, err
	}
	issKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	issTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{Organization: []string{"daprshop local"}, CommonName: "cluster.local"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	issDER, err := x509.CreateCertificate(rand.Reader, issTmpl, rootCert, &issKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	issKeyDER, err := x509.MarshalECPrivateKey(issKey)
	if err != nil {
		return nil, err
	}
	root := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER})
	// The root is written last: its presence marks a complete bundle.
	for _, f := range []struct {
		name string
		data []byte
	}{
		{IssuerFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issDER})},
		{IssuerKeyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: issKeyDER})},
		{RootFile, root},
	} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			return nil, fmt.Errorf("trust bundle: %w", err)
		}
	}
	return root, nil
}
