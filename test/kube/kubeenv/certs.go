package kubeenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki is what the control plane needs of its own: a CA, the API server's
// serving certificate signed by it and the service-account signing key.
type pki struct {
	caFile, certFile, keyFile string // API server TLS
	saKeyFile, saPubFile      string // service-account token signing
	caPEM                     []byte
}

func writePKI(dir string) (*pki, error) {
	p := &pki{
		caFile:    filepath.Join(dir, "ca.crt"),
		certFile:  filepath.Join(dir, "apiserver.crt"),
		keyFile:   filepath.Join(dir, "apiserver.key"),
		saKeyFile: filepath.Join(dir, "sa.key"),
		saPubFile: filepath.Join(dir, "sa.pub"),
	}
	now := time.Now()

	caCert, caKey, caDER, err := selfSignedCA(pkix.Name{CommonName: "kubeenv-ca"}, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature)
	if err != nil {
		return nil, err
	}
	p.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})

	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(serviceClusterIP)},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}

	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	saPub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}

	files := []struct {
		path  string
		typ   string
		bytes func() ([]byte, error)
	}{
		{p.caFile, "CERTIFICATE", func() ([]byte, error) { return caDER, nil }},
		{p.certFile, "CERTIFICATE", func() ([]byte, error) { return srvDER, nil }},
		{p.keyFile, "EC PRIVATE KEY", func() ([]byte, error) { return x509.MarshalECPrivateKey(srvKey) }},
		{p.saKeyFile, "EC PRIVATE KEY", func() ([]byte, error) { return x509.MarshalECPrivateKey(saKey) }},
		{p.saPubFile, "PUBLIC KEY", func() ([]byte, error) { return saPub, nil }},
	}
	for _, f := range files {
		b, err := f.bytes()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.path, err)
		}
		if err := os.WriteFile(f.path, pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: b}), 0o600); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// writeSentryCredentials writes a trust bundle for Dapr's sentry (root
// ca.crt, issuer.crt, issuer.key: the layout of its --issuer-credentials
// directory) and returns the root. Sentry can generate one itself, but it
// then sees its own writes as a credentials change and restarts its server a
// few times, every 2 s, while the injector asks it for a certificate.
func writeSentryCredentials(dir string) ([]byte, error) {
	now := time.Now()
	rootCert, rootKey, rootDER, err := selfSignedCA(pkix.Name{Organization: []string{"kubeenv"}, CommonName: "cluster.local"},
		x509.KeyUsageCertSign|x509.KeyUsageCRLSign)
	if err != nil {
		return nil, err
	}
	issKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	issTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{Organization: []string{"kubeenv"}, CommonName: "cluster.local"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
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
	for name, content := range map[string][]byte{
		"ca.crt":     root,
		"issuer.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: issDER}),
		"issuer.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: issKeyDER}),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// selfSignedCA makes a CA certificate valid for a day (from an hour ago,
// against clock skew) with a new P-256 key.
func selfSignedCA(subject pkix.Name, usage x509.KeyUsage) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               subject,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              usage,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, der, err
}
