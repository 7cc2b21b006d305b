package amitest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// tlsPool is the client-side trust of the server's certificate.
type tlsPool struct {
	pool *x509.CertPool
	cert *x509.Certificate
}

// serverTLSConfig returns the server configuration, generating the
// self-signed certificate on first use (it is kept across restarts, so a
// ClientTLSConfig stays valid).
func (s *Server) serverTLSConfig() (*tls.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tlsCert == nil {
		cert, leaf, err := selfSigned()
		if err != nil {
			return nil, fmt.Errorf("ami: amitest: tls certificate: %w", err)
		}
		pool := x509.NewCertPool()
		pool.AddCert(leaf)
		s.tlsCert, s.tlsPool = cert, &tlsPool{pool: pool, cert: leaf}
	}
	return &tls.Config{Certificates: []tls.Certificate{*s.tlsCert}, MinVersion: tls.VersionTLS12}, nil
}

// ClientTLSConfig returns a client configuration that trusts the server's
// self-signed certificate (ServerName "127.0.0.1"; the certificate also
// covers "localhost"). It returns nil if Options.TLS is false or the server
// was never started. Each call returns a new configuration.
func (s *Server) ClientTLSConfig() *tls.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tlsPool == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.tlsPool.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// Certificate returns the server's self-signed certificate, or nil (see
// ClientTLSConfig).
func (s *Server) Certificate() *x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tlsPool == nil {
		return nil
	}
	return s.tlsPool.cert
}

// selfSigned makes an ECDSA P-256 certificate for 127.0.0.1, ::1 and
// localhost, valid from an hour ago for a day.
func selfSigned() (*tls.Certificate, *x509.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"amitest"}, CommonName: "127.0.0.1"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf, nil
}
