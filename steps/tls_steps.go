package steps

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cucumber/godog"
)

// registerTLSSteps registers the steps on the TLS connection to the issuer.
func (s *scenario) registerTLSSteps(sc *godog.ScenarioContext) {
	sc.Step(`^the suite opens a TLS connection to the issuer with only (TLS 1\.0|TLS 1\.1)$`, s.tlsHandshakeWithVersion)
	sc.Step(`^the suite opens a TLS connection to the issuer with only TLS 1\.2 and CBC cipher suites$`, s.tlsHandshakeCBC)
	sc.Step(`^the suite opens a TLS connection to the issuer with TLS 1\.2 or later$`, s.tlsHandshakeModern)
	sc.Step(`^the TLS handshake fails$`, s.tlsHandshakeFailed)
	sc.Step(`^the TLS handshake succeeds$`, s.tlsHandshakeSucceeded)
	sc.Step(`^the response has a "Strict-Transport-Security" header with a positive max-age$`, s.responseHasHSTS)
}

// tlsOutcome is what the latest handshake with the issuer gave.
type tlsOutcome struct {
	offered string
	state   *tls.ConnectionState
	err     error
}

var tlsVersions = map[string]uint16{"TLS 1.0": tls.VersionTLS10, "TLS 1.1": tls.VersionTLS11}

// tlsHandshakeWithVersion offers one retired version (RFC 8996 §2, §3:
// TLS 1.0 and 1.1 MUST NOT be used) with every cipher suite Go knows, so
// that only the version can make the server refuse.
func (s *scenario) tlsHandshakeWithVersion(version string) error {
	v := tlsVersions[version]
	return s.tlsHandshake(version, &tls.Config{MinVersion: v, MaxVersion: v, CipherSuites: allCipherSuites()})
}

// tlsHandshakeCBC offers TLS 1.2 with only the suites that lack
// authenticated encryption (CBC mode); BCP 195 (RFC 9325 §4.2) recommends
// only AEAD suites for TLS 1.2.
func (s *scenario) tlsHandshakeCBC() error {
	var cbc []uint16
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if strings.Contains(cs.Name, "_CBC_") && slices.Contains(cs.SupportedVersions, tls.VersionTLS12) {
			cbc = append(cbc, cs.ID)
		}
	}
	return s.tlsHandshake("TLS 1.2 with CBC cipher suites", &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: cbc})
}

func (s *scenario) tlsHandshakeModern() error {
	return s.tlsHandshake("TLS 1.2 or later", &tls.Config{MinVersion: tls.VersionTLS12})
}

func allCipherSuites() []uint16 {
	var ids []uint16
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		ids = append(ids, cs.ID)
	}
	return ids
}

// tlsHandshake dials the issuer's host and records the outcome. The
// certificate is not checked: the scenarios are about what the server
// agrees to, and the run's trust settings are checked by every other
// request.
func (s *scenario) tlsHandshake(offered string, cfg *tls.Config) error {
	u, err := url.Parse(s.run.issuerID())
	if err != nil {
		return err
	}
	if u.Scheme != "https" {
		return s.notApplicable("the issuer %s is not served over https", s.run.issuerID())
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "443")
	}
	cfg.ServerName = u.Hostname()
	cfg.InsecureSkipVerify = true
	ctx, cancel := context.WithTimeout(s.ctx, s.run.cfg.Timeouts.HTTP)
	defer cancel()
	d := &tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", addr)
	s.tls = &tlsOutcome{offered: offered, err: err}
	if err == nil {
		st := conn.(*tls.Conn).ConnectionState()
		s.tls.state = &st
		conn.Close()
	}
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no TLS answer from %s within timeouts.http = %s", addr, s.run.cfg.Timeouts.HTTP)
	}
	return nil
}

func (s *scenario) tlsHandshakeFailed() error {
	switch {
	case s.tls == nil:
		return errors.New("no TLS connection was attempted")
	case s.tls.err == nil:
		return fmt.Errorf("offered %s, the issuer agreed: %s with %s", s.tls.offered,
			tls.VersionName(s.tls.state.Version), tls.CipherSuiteName(s.tls.state.CipherSuite))
	}
	s.rec.Note("offered %s, the issuer refused: %v", s.tls.offered, s.tls.err)
	return nil
}

func (s *scenario) tlsHandshakeSucceeded() error {
	switch {
	case s.tls == nil:
		return errors.New("no TLS connection was attempted")
	case s.tls.err != nil:
		return fmt.Errorf("offered %s, the handshake failed: %w", s.tls.offered, s.tls.err)
	}
	s.rec.Note("negotiated %s with %s", tls.VersionName(s.tls.state.Version), tls.CipherSuiteName(s.tls.state.CipherSuite))
	return nil
}

var hstsMaxAge = regexp.MustCompile(`(?i)(?:^|;)\s*max-age\s*=\s*"?(\d+)"?`)

// responseHasHSTS checks RFC 6797 §6.1's header; max-age is required
// there (§6.1.1), and 0 tells the browser to forget the host. BCP 195
// (RFC 9325 §3.2) says web servers SHOULD use HSTS.
func (s *scenario) responseHasHSTS() error {
	if s.resp == nil {
		return errors.New("no response")
	}
	h := s.resp.header.Get("Strict-Transport-Security")
	if h == "" {
		return fmt.Errorf("the page (HTTP %d) has no Strict-Transport-Security header", s.resp.status)
	}
	m := hstsMaxAge.FindStringSubmatch(h)
	if m == nil {
		return fmt.Errorf("Strict-Transport-Security %q has no max-age", h)
	}
	if age, _ := strconv.Atoi(m[1]); age <= 0 {
		return fmt.Errorf("Strict-Transport-Security %q: max-age 0 turns HSTS off", h)
	}
	return nil
}
