import { describe, expect, it } from 'vitest';
import { AcmeChallengeTargetError, challengeIdentifier, dns01RecordName, http01Path, tlsAlpnServerName } from '../../../core/acme-challenge-targets.js';

describe('where each ACME challenge looks', () => {
  it('ok/http-01 path (RFC 8555 §8.3)', () => {
    expect(http01Path('LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0')).toBe('/.well-known/acme-challenge/LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0');
  });

  it('ok/dns-01 record name; a wildcard is validated at its base name (RFC 8555 §8.4)', () => {
    expect(dns01RecordName('www.example.org')).toBe('_acme-challenge.www.example.org');
    expect(dns01RecordName('*.example.org')).toBe('_acme-challenge.example.org');
  });

  it('ok/tls-alpn-01 SNI: the name, or the reverse-mapping name of an IP address (RFC 8738 §6)', () => {
    expect(tlsAlpnServerName({ type: 'dns', value: 'www.example.org' })).toBe('www.example.org');
    expect(tlsAlpnServerName({ type: 'ip', value: '192.0.2.1' })).toBe('1.2.0.192.in-addr.arpa');
    expect(tlsAlpnServerName({ type: 'ip', value: '2001:db8::1' })).toBe('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  });
});

describe('challengeIdentifier', () => {
  it('ok/canonicalizes names and addresses', () => {
    expect(challengeIdentifier('http-01', { type: 'dns', value: 'WWW.Example.ORG' })).toEqual({ type: 'dns', value: 'www.example.org' });
    expect(challengeIdentifier('tls-alpn-01', { type: 'ip', value: '2001:DB8:0::1' })).toEqual({ type: 'ip', value: '2001:db8::1' });
    expect(challengeIdentifier('dns-01', { type: 'dns', value: '*.example.org' })).toEqual({ type: 'dns', value: '*.example.org' });
  });

  it.each([
    ['fail/http-01 for a wildcard', 'http-01', { type: 'dns', value: '*.example.org' }, /wildcard/],
    ['fail/tls-alpn-01 for a wildcard', 'tls-alpn-01', { type: 'dns', value: '*.example.org' }, /wildcard/],
    ['fail/dns-01 for an IP address (RFC 8738 §7)', 'dns-01', { type: 'ip', value: '192.0.2.1' }, /RFC 8738/],
    ['fail/a dns identifier that is an IP address', 'http-01', { type: 'dns', value: '192.0.2.1' }, /IP address/],
    ['fail/an ip identifier that is a name', 'http-01', { type: 'ip', value: 'www.example.org' }, /not a valid IP address/],
    ['fail/a name with a trailing dot', 'http-01', { type: 'dns', value: 'www.example.org.' }, /trailing dot/],
  ] as const)('%s', (_name, type, identifier, message) => {
    expect(() => challengeIdentifier(type, identifier)).toThrow(AcmeChallengeTargetError);
    expect(() => challengeIdentifier(type, identifier)).toThrow(message);
  });
});
