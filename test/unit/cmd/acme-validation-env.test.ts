/** The worker's ACME validation settings (cmd/acme-validation-env.ts): what is accepted, and how a bad value is named. */
import { Resolver } from 'node:dns/promises';
import { describe, expect, it } from 'vitest';
import { loadAcmeValidationConfig } from '../../../cmd/acme-validation-env.js';
import { ConfigError } from '../../../cmd/config.js';

describe('ACME validation configuration', () => {
  it('ok/defaults: ports 80 and 443, the system resolver, 10 s', () => {
    expect(loadAcmeValidationConfig({})).toEqual({ httpPort: 80, tlsAlpnPort: 443, dnsResolver: null, timeoutMs: 10_000 });
    expect(loadAcmeValidationConfig({ CERTFLOW_ACME_HTTP01_PORT: ' ', CERTFLOW_ACME_DNS_RESOLVER: '' })).toEqual({ httpPort: 80, tlsAlpnPort: 443, dnsResolver: null, timeoutMs: 10_000 });
  });

  it('ok/ports and a resolver for tests and development', () => {
    expect(loadAcmeValidationConfig({ CERTFLOW_ACME_HTTP01_PORT: '5002', CERTFLOW_ACME_TLSALPN01_PORT: '5001', CERTFLOW_ACME_DNS_RESOLVER: '127.0.0.1:8053' })).toEqual({
      httpPort: 5002,
      tlsAlpnPort: 5001,
      dnsResolver: '127.0.0.1:8053',
      timeoutMs: 10_000,
    });
  });

  it.each([
    ['192.0.2.53', '192.0.2.53'],
    ['192.0.2.53:53', '192.0.2.53:53'],
    ['[2001:DB8::53]:5353', '[2001:db8::53]:5353'],
    ['2001:db8::53', '2001:db8::53'],
    ['[::1]', '::1'],
  ])('ok/resolver %s is %s, and node:dns takes it', (text, expected) => {
    const { dnsResolver } = loadAcmeValidationConfig({ CERTFLOW_ACME_DNS_RESOLVER: text });
    expect(dnsResolver).toBe(expected);
    expect(() => new Resolver().setServers([dnsResolver!])).not.toThrow();
  });

  it.each([
    ['CERTFLOW_ACME_HTTP01_PORT', '0', /CERTFLOW_ACME_HTTP01_PORT: "0" is not a port number/],
    ['CERTFLOW_ACME_HTTP01_PORT', '65536', /CERTFLOW_ACME_HTTP01_PORT: "65536" is not a port number/],
    ['CERTFLOW_ACME_TLSALPN01_PORT', 'https', /CERTFLOW_ACME_TLSALPN01_PORT: "https" is not a port number/],
    ['CERTFLOW_ACME_TLSALPN01_PORT', '44.3', /CERTFLOW_ACME_TLSALPN01_PORT/],
    ['CERTFLOW_ACME_DNS_RESOLVER', 'dns.example.test:53', /CERTFLOW_ACME_DNS_RESOLVER: "dns.example.test:53" is not an IP address/],
    ['CERTFLOW_ACME_DNS_RESOLVER', '127.0.0.1:99999', /CERTFLOW_ACME_DNS_RESOLVER: "99999" is not a port number/],
    ['CERTFLOW_ACME_DNS_RESOLVER', '127.1:53', /CERTFLOW_ACME_DNS_RESOLVER: "127.1:53" is not an IP address/],
    ['CERTFLOW_ACME_DNS_RESOLVER', '[::1]:', /CERTFLOW_ACME_DNS_RESOLVER: "" is not a port number/],
  ])('fail/%s=%s', (variable, value, message) => {
    expect(() => loadAcmeValidationConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadAcmeValidationConfig({ [variable]: value })).toThrow(message);
  });

  it('fail/every bad value is named at once', () => {
    expect(() => loadAcmeValidationConfig({ CERTFLOW_ACME_HTTP01_PORT: 'x', CERTFLOW_ACME_DNS_RESOLVER: 'y' })).toThrow(/CERTFLOW_ACME_HTTP01_PORT[\s\S]*CERTFLOW_ACME_DNS_RESOLVER/);
  });
});
