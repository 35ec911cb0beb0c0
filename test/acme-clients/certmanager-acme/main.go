// Command certmanager-acme drives cert-manager's forked ACME client
// (github.com/cert-manager/cert-manager/third_party/forked/acme) against an ACME
// server, for Certflow's conformance tests: account with EAB, order (optionally
// replacing a certificate, RFC 9773), authorization by http-01 or dns-01,
// finalize, download; or only an ARI lookup (-ari), or a revocation (-revoke).
//
// It prints one JSON line on stdout describing what it did; progress goes to stderr.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cert-manager/cert-manager/third_party/forked/acme"
)

type domainList []string

func (d *domainList) String() string { return strings.Join(*d, ",") }
func (d *domainList) Set(v string) error {
	for _, name := range strings.Split(v, ",") {
		if name = strings.TrimSpace(name); name != "" {
			*d = append(*d, name)
		}
	}
	return nil
}

type options struct {
	directory, caBundle, accountKey string
	eabKID, eabHMAC                 string
	domains                         domainList
	out, replaces, ari              string
	revoke                          string
	reason                          int
	challenge                       string
	httpPort                        int
	challtestsrv                    string
	timeout                         time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.directory, "directory", "", "ACME directory URL (required)")
	flag.StringVar(&o.caBundle, "ca-bundle", "", "PEM file of the CAs trusted for the ACME server's TLS (default: system roots)")
	flag.StringVar(&o.accountKey, "account-key", "", "account key PEM file, created (ECDSA P-256) if missing (required except with -ari)")
	flag.StringVar(&o.eabKID, "eab-kid", "", "external account binding key id")
	flag.StringVar(&o.eabHMAC, "eab-hmac", "", "external account binding MAC key, base64url")
	flag.Var(&o.domains, "domain", "DNS name to order (repeatable, or a comma list)")
	flag.StringVar(&o.out, "out", "", "dir to write cert.pem, chain.pem, fullchain.pem and key.pem into")
	flag.StringVar(&o.replaces, "replaces", "", "PEM certificate file: send its ARI certID as the order's replaces field")
	flag.StringVar(&o.ari, "ari", "", "PEM certificate file: only print its renewal info (GetRenewalInfo) as JSON")
	flag.StringVar(&o.revoke, "revoke", "", "PEM certificate file: only revoke it with the account key")
	flag.IntVar(&o.reason, "reason", 0, "CRL reason code for -revoke")
	flag.StringVar(&o.challenge, "challenge", "http-01", "http-01, dns-01 or none (authorizations must already be valid)")
	flag.IntVar(&o.httpPort, "http-port", 5002, "port on 127.0.0.1 to answer http-01 challenges on")
	flag.StringVar(&o.challtestsrv, "challtestsrv", "", "pebble-challtestsrv management URL to set dns-01 TXT records through (default: print them and wait for Enter)")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up after this long")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	result, err := run(ctx, &o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "certmanager-acme: %v\n", err)
		var acmeErr *acme.Error
		if errors.As(err, &acmeErr) {
			_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"error": err.Error(), "problemType": acmeErr.ProblemType, "status": acmeErr.StatusCode})
		} else {
			_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"error": err.Error()})
		}
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(result)
}

func run(ctx context.Context, o *options) (map[string]any, error) {
	if o.directory == "" {
		return nil, errors.New("-directory is required")
	}
	httpClient, err := newHTTPClient(o.caBundle)
	if err != nil {
		return nil, err
	}
	client := &acme.Client{DirectoryURL: o.directory, HTTPClient: httpClient, UserAgent: "certflow-certmanager-acme"}

	if o.ari != "" {
		return renewalInfo(ctx, client, o.ari)
	}
	if o.accountKey == "" {
		return nil, errors.New("-account-key is required")
	}
	if client.Key, err = loadOrCreateKey(o.accountKey); err != nil {
		return nil, err
	}
	account, err := register(ctx, client, o)
	if err != nil {
		return nil, err
	}
	if o.revoke != "" {
		cert, err := readCert(o.revoke)
		if err != nil {
			return nil, err
		}
		if err := client.RevokeCert(ctx, nil, cert.Raw, acme.CRLReasonCode(o.reason)); err != nil {
			return nil, fmt.Errorf("revoke: %w", err)
		}
		return map[string]any{"action": "revoked", "account": account, "serial": serialHex(cert), "reason": o.reason}, nil
	}
	return order(ctx, client, o, account)
}

func newHTTPClient(caBundle string) (*http.Client, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if caBundle != "" {
		pemBytes, err := os.ReadFile(caBundle)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, fmt.Errorf("no certificate in %s", caBundle)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}, nil
}

func renewalInfo(ctx context.Context, client *acme.Client, certFile string) (map[string]any, error) {
	cert, err := readCert(certFile)
	if err != nil {
		return nil, err
	}
	certID, err := acme.CertificateARIID(cert)
	if err != nil {
		return nil, err
	}
	info, err := client.GetRenewalInfo(ctx, cert)
	if err != nil {
		return nil, fmt.Errorf("renewal info: %w", err)
	}
	return map[string]any{
		"action":            "renewalInfo",
		"certID":            certID,
		"suggestedWindow":   map[string]any{"start": info.SuggestedWindow.Start, "end": info.SuggestedWindow.End},
		"explanationURL":    info.ExplanationURL,
		"retryAfterSeconds": info.RetryAfter.Seconds(),
	}, nil
}

func register(ctx context.Context, client *acme.Client, o *options) (string, error) {
	acct := &acme.Account{}
	if o.eabKID != "" || o.eabHMAC != "" {
		key, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(o.eabHMAC, "="))
		if err != nil {
			return "", fmt.Errorf("-eab-hmac is not base64url: %w", err)
		}
		acct.ExternalAccountBinding = &acme.ExternalAccountBinding{KID: o.eabKID, Key: key}
	}
	registered, err := client.Register(ctx, acct, acme.AcceptTOS)
	switch {
	case errors.Is(err, acme.ErrAccountAlreadyExists):
		fmt.Fprintf(os.Stderr, "account exists: %s\n", client.KID)
		return string(client.KID), nil
	case err != nil:
		return "", fmt.Errorf("register: %w", err)
	}
	fmt.Fprintf(os.Stderr, "registered account %s\n", registered.URI)
	return registered.URI, nil
}

func order(ctx context.Context, client *acme.Client, o *options, account string) (map[string]any, error) {
	if len(o.domains) == 0 {
		return nil, errors.New("-domain is required")
	}
	if o.out == "" {
		return nil, errors.New("-out is required")
	}
	var orderOptions []acme.OrderOption
	replacesID := ""
	if o.replaces != "" {
		old, err := readCert(o.replaces)
		if err != nil {
			return nil, err
		}
		if replacesID, err = acme.CertificateARIID(old); err != nil {
			return nil, err
		}
		orderOptions = append(orderOptions, acme.WithOrderReplacesCertID(replacesID))
	}
	ord, err := client.AuthorizeOrder(ctx, acme.DomainIDs(o.domains...), orderOptions...)
	if err != nil {
		return nil, fmt.Errorf("new order: %w", err)
	}
	fmt.Fprintf(os.Stderr, "order %s: %s\n", ord.URI, ord.Status)

	solved := 0
	for _, authzURL := range ord.AuthzURLs {
		n, err := authorize(ctx, client, o, authzURL)
		if err != nil {
			return nil, err
		}
		solved += n
	}
	if _, err := client.WaitOrder(ctx, ord.URI); err != nil {
		return nil, fmt.Errorf("wait for order ready: %w", err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{DNSNames: o.domains}, key)
	if err != nil {
		return nil, err
	}
	chain, certURL, finalizeErr := client.CreateOrderCert(ctx, ord.FinalizeURL, csr, true)
	finalizeRetried := ""
	if finalizeErr != nil {
		var acmeErr *acme.Error
		if errors.As(finalizeErr, &acmeErr) && acmeErr.StatusCode != http.StatusForbidden {
			return nil, fmt.Errorf("finalize: %w", finalizeErr)
		}
		// What cert-manager's order controller does on its next reconcile: CreateOrderCert polls the order
		// at the finalize response's Location header, and a server that answers "processing" without one
		// (pebble 2.10 does) makes it fail with `Post ""`; the order itself is then polled at its own URL.
		fmt.Fprintf(os.Stderr, "finalize: %v; polling the order at %s instead\n", finalizeErr, ord.URI)
		finalizeRetried = finalizeErr.Error()
		if chain, certURL, err = fetchAfterFinalize(ctx, client, ord.URI); err != nil {
			return nil, fmt.Errorf("finalize: %v, then: %w", finalizeErr, err)
		}
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("issued certificate: %w", err)
	}
	if err := writeFiles(o.out, chain, key); err != nil {
		return nil, err
	}
	result := map[string]any{
		"action":           "issued",
		"account":          account,
		"orderURL":         ord.URI,
		"certURL":          certURL,
		"serial":           serialHex(leaf),
		"names":            leaf.DNSNames,
		"notBefore":        leaf.NotBefore,
		"notAfter":         leaf.NotAfter,
		"chainLength":      len(chain),
		"challengesSolved": solved,
	}
	if replacesID != "" {
		result["replaces"] = replacesID
	}
	if finalizeRetried != "" {
		result["finalizeRetried"] = finalizeRetried
	}
	if id, err := acme.CertificateARIID(leaf); err == nil {
		result["certID"] = id
	}
	return result, nil
}

func fetchAfterFinalize(ctx context.Context, client *acme.Client, orderURL string) ([][]byte, string, error) {
	for {
		o, err := client.WaitOrder(ctx, orderURL)
		if err != nil {
			return nil, "", err
		}
		if o.Status == acme.StatusValid {
			chain, err := client.FetchCert(ctx, o.CertURL, true)
			return chain, o.CertURL, err
		}
		// ready: WaitOrder returns on ready as well as valid, but a finalized order only moves on to valid.
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// authorize completes one authorization; it returns how many challenges it solved (0 when already valid).
func authorize(ctx context.Context, client *acme.Client, o *options, authzURL string) (int, error) {
	authz, err := client.GetAuthorization(ctx, authzURL)
	if err != nil {
		return 0, fmt.Errorf("authorization %s: %w", authzURL, err)
	}
	if authz.Status == acme.StatusValid {
		return 0, nil
	}
	if authz.Status != acme.StatusPending {
		return 0, fmt.Errorf("authorization %s for %s is %s", authzURL, authz.Identifier.Value, authz.Status)
	}
	if o.challenge == "none" {
		return 0, fmt.Errorf("authorization for %s is pending but -challenge is none", authz.Identifier.Value)
	}
	var chal *acme.Challenge
	for _, c := range authz.Challenges {
		if c.Type == o.challenge {
			chal = c
		}
	}
	if chal == nil {
		return 0, fmt.Errorf("authorization for %s offers no %s challenge", authz.Identifier.Value, o.challenge)
	}

	var cleanUp func()
	switch o.challenge {
	case "http-01":
		cleanUp, err = serveHTTP01(client, chal.Token, o.httpPort)
	case "dns-01":
		cleanUp, err = setDNS01(client, chal.Token, authz.Identifier.Value, o.challtestsrv)
	default:
		err = fmt.Errorf("unknown -challenge %q", o.challenge)
	}
	if err != nil {
		return 0, err
	}
	defer cleanUp()

	if _, err := client.Accept(ctx, chal); err != nil {
		return 0, fmt.Errorf("accept %s for %s: %w", chal.Type, authz.Identifier.Value, err)
	}
	if _, err := client.WaitAuthorization(ctx, authz.URI); err != nil {
		return 0, fmt.Errorf("authorization for %s: %w", authz.Identifier.Value, err)
	}
	return 1, nil
}

func serveHTTP01(client *acme.Client, token string, port int) (func(), error) {
	body, err := client.HTTP01ChallengeResponse(token)
	if err != nil {
		return nil, err
	}
	path := client.HTTP01ChallengePath(token)
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("http-01 listener: %w", err)
	}
	server := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != path {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write([]byte(body))
		}),
	}
	go func() { _ = server.Serve(listener) }()
	return func() { _ = server.Close() }, nil
}

func setDNS01(client *acme.Client, token, domain, challtestsrv string) (func(), error) {
	value, err := client.DNS01ChallengeRecord(token)
	if err != nil {
		return nil, err
	}
	host := "_acme-challenge." + strings.TrimSuffix(domain, ".") + "."
	if challtestsrv == "" {
		fmt.Fprintf(os.Stderr, "Set the TXT record %s to %q, then press Enter\n", host, value)
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return nil, fmt.Errorf("waiting for Enter: %w", err)
		}
		return func() {}, nil
	}
	if err := postJSON(challtestsrv+"/set-txt", map[string]string{"host": host, "value": value}); err != nil {
		return nil, err
	}
	return func() { _ = postJSON(challtestsrv+"/clear-txt", map[string]string{"host": host}) }, nil
}

func postJSON(url string, body any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	res, err := http.Post(url, "application/json", bytes.NewReader(payload))
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", url, res.Status)
	}
	return nil
}

func loadOrCreateKey(file string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		return key, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	}
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("no PEM block in %s", file)
	}
	if block.Type == "EC PRIVATE KEY" {
		return x509.ParseECPrivateKey(block.Bytes)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an ECDSA key", file)
	}
	return key, nil
}

func readCert(file string) (*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("no CERTIFICATE PEM block in %s", file)
	}
	return x509.ParseCertificate(block.Bytes)
}

func writeFiles(dir string, chain [][]byte, key *ecdsa.PrivateKey) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	var intermediates, full []byte
	for i, der := range chain {
		block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		full = append(full, block...)
		if i > 0 {
			intermediates = append(intermediates, block...)
		}
	}
	files := map[string][]byte{
		"cert.pem":      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[0]}),
		"chain.pem":     intermediates,
		"fullchain.pem": full,
		"key.pem":       pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func serialHex(cert *x509.Certificate) string { return fmt.Sprintf("%x", cert.SerialNumber) }
