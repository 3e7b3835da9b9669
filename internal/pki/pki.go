// Package pki makes and loads the cluster's certificate authority, the API
// server's serving certificate and the admin bearer token. Everything is kept
// as PEM files in the cluster's state directory so a resumed cluster keeps the
// credentials its kubeconfig already holds.
package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Bundle is the set of credentials one cluster uses.
type Bundle struct {
	CACertPEM []byte
	CAKeyPEM  []byte
	CertPEM   []byte // the API server's serving certificate
	KeyPEM    []byte
	Token     string // the admin bearer token written into the kubeconfig
}

const (
	caCertFile = "ca.crt"
	caKeyFile  = "ca.key"
	certFile   = "apiserver.crt"
	keyFile    = "apiserver.key"
	tokenFile  = "admin.token"
)

// LoadOrCreate reads the bundle from dir, creating whatever is missing. The
// serving certificate names every address in ips and every DNS name in names.
func LoadOrCreate(dir string, ips []net.IP, names []string) (*Bundle, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	b, err := load(dir)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	b, err = Create(ips, names)
	if err != nil {
		return nil, err
	}
	for name, data := range map[string][]byte{
		caCertFile: b.CACertPEM, caKeyFile: b.CAKeyPEM,
		certFile: b.CertPEM, keyFile: b.KeyPEM, tokenFile: []byte(b.Token),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return nil, fmt.Errorf("pki: %w", err)
		}
	}
	return b, nil
}

func load(dir string) (*Bundle, error) {
	b := &Bundle{}
	for name, dst := range map[string]*[]byte{
		caCertFile: &b.CACertPEM, caKeyFile: &b.CAKeyPEM, certFile: &b.CertPEM, keyFile: &b.KeyPEM,
	} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		*dst = data
	}
	tok, err := os.ReadFile(filepath.Join(dir, tokenFile))
	if err != nil {
		return nil, err
	}
	b.Token = string(tok)
	if _, err := tls.X509KeyPair(b.CertPEM, b.KeyPEM); err != nil {
		return nil, fmt.Errorf("pki: serving certificate in %s: %w", dir, err)
	}
	return b, nil
}

// Create makes a fresh CA, a serving certificate signed by it and a token.
func Create(ips []net.IP, names []string) (*Bundle, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "kin-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("pki: ca: %w", err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  ips,
		DNSNames:     names,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("pki: serving certificate: %w", err)
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	return &Bundle{
		CACertPEM: pemBlock("CERTIFICATE", caDER),
		CAKeyPEM:  pemKey(caKey),
		CertPEM:   pemBlock("CERTIFICATE", der),
		KeyPEM:    pemKey(key),
		Token:     hex.EncodeToString(tok),
	}, nil
}

// TLSCertificate returns the serving certificate for a tls.Config.
func (b *Bundle) TLSCertificate() (tls.Certificate, error) {
	return tls.X509KeyPair(b.CertPEM, b.KeyPEM)
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pemKey(k *ecdsa.PrivateKey) []byte {
	der, _ := x509.MarshalECPrivateKey(k)
	return pemBlock("EC PRIVATE KEY", der)
}
