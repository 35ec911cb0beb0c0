import { describe, expect, it } from 'vitest';
import { checkTlsAlpnCertificate } from '../../../ca/acme-tls-alpn.js';
import { buildTlsAlpnCertificate, type TlsAlpnCertificateSpec } from '../../support/acme-tls-alpn-certificate.js';

const KEY_AUTHORIZATION = 'evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
const NAME = { type: 'dns', value: 'www.example.org' } as const;

async function check(spec: TlsAlpnCertificateSpec, identifier: { type: 'dns' | 'ip'; value: string } = NAME) {
  const { der } = await buildTlsAlpnCertificate(spec);
  return checkTlsAlpnCertificate(der, identifier, KEY_AUTHORIZATION);
}

describe('checkTlsAlpnCertificate (RFC 8737 §3)', () => {
  it('ok/one dNSName equal to the identifier and a critical acmeIdentifier holding SHA-256 of the key authorization', async () => {
    expect(await check({ names: [NAME], keyAuthorization: KEY_AUTHORIZATION })).toEqual({ ok: true });
  });

  it('ok/the dNSName is compared without regard to case', async () => {
    expect(await check({ names: [{ type: 'dns', value: 'WWW.Example.org' }], keyAuthorization: KEY_AUTHORIZATION })).toEqual({ ok: true });
  });

  it('ok/an IP identifier is matched by one iPAddress (RFC 8738 §6), IPv4 and IPv6', async () => {
    expect(await check({ names: [{ type: 'ip', value: '192.0.2.1' }], keyAuthorization: KEY_AUTHORIZATION }, { type: 'ip', value: '192.0.2.1' })).toEqual({ ok: true });
    expect(await check({ names: [{ type: 'ip', value: '2001:db8::1' }], keyAuthorization: KEY_AUTHORIZATION }, { type: 'ip', value: '2001:db8::1' })).toEqual({ ok: true });
  });

  const refused: [string, TlsAlpnCertificateSpec, string, { type: 'dns' | 'ip'; value: string }?][] = [
    ['fail/no acmeIdentifier extension', { names: [NAME], keyAuthorization: null }, 'no_acme_identifier'],
    ['fail/a non-critical acmeIdentifier', { names: [NAME], keyAuthorization: KEY_AUTHORIZATION, critical: false }, 'acme_identifier_not_critical'],
    ['fail/the digest of another key authorization', { names: [NAME], keyAuthorization: `${KEY_AUTHORIZATION}x` }, 'acme_identifier_mismatch'],
    ['fail/the digest not wrapped in an OCTET STRING', { names: [NAME], keyAuthorization: null, acmeIdentifierValue: Buffer.alloc(32, 1) }, 'acme_identifier_malformed'],
    ['fail/an OCTET STRING of 31 octets', { names: [NAME], keyAuthorization: null, acmeIdentifierValue: Buffer.concat([Buffer.from([0x04, 31]), Buffer.alloc(31)]) }, 'acme_identifier_malformed'],
    ['fail/trailing bytes after the OCTET STRING', { names: [NAME], keyAuthorization: null, acmeIdentifierValue: Buffer.concat([Buffer.from([0x04, 32]), Buffer.alloc(33)]) }, 'acme_identifier_malformed'],
    ['fail/two names, the identifier among them', { names: [NAME, { type: 'dns', value: 'other.example.org' }], keyAuthorization: KEY_AUTHORIZATION }, 'subject_alt_name_not_single'],
    ['fail/the same name twice', { names: [NAME, NAME], keyAuthorization: KEY_AUTHORIZATION }, 'subject_alt_name_not_single'],
    ['fail/another name', { names: [{ type: 'dns', value: 'other.example.org' }], keyAuthorization: KEY_AUTHORIZATION }, 'subject_alt_name_mismatch'],
    ['fail/a name one label longer', { names: [{ type: 'dns', value: 'a.www.example.org' }], keyAuthorization: KEY_AUTHORIZATION }, 'subject_alt_name_mismatch'],
    ['fail/the acmeIdentifier twice', { names: [NAME], keyAuthorization: KEY_AUTHORIZATION, acmeIdentifierTwice: true }, 'duplicate_extension'],
    ['fail/no subjectAltName', { names: [], keyAuthorization: KEY_AUTHORIZATION }, 'no_subject_alt_name'],
    ['fail/a dNSName for an IP identifier', { names: [{ type: 'dns', value: '192.0.2.1' }], keyAuthorization: KEY_AUTHORIZATION }, 'subject_alt_name_mismatch', { type: 'ip', value: '192.0.2.1' }],
    ['fail/another IP address', { names: [{ type: 'ip', value: '192.0.2.2' }], keyAuthorization: KEY_AUTHORIZATION }, 'subject_alt_name_mismatch', { type: 'ip', value: '192.0.2.1' }],
    ['fail/an iPAddress for a dns identifier', { names: [{ type: 'ip', value: '192.0.2.1' }], keyAuthorization: KEY_AUTHORIZATION }, 'subject_alt_name_mismatch'],
  ];
  it.each(refused)('%s', async (_name, spec, reason, identifier) => {
    const result = await check(spec, identifier);
    expect(result).toMatchObject({ ok: false, reason, detail: expect.stringMatching(/\w/) });
  });

  it('fail/bytes that are not a certificate, and a truncated certificate', async () => {
    const { der } = await buildTlsAlpnCertificate({ names: [NAME], keyAuthorization: KEY_AUTHORIZATION });
    expect(checkTlsAlpnCertificate(Buffer.from('not a certificate'), NAME, KEY_AUTHORIZATION)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(checkTlsAlpnCertificate(der.subarray(0, der.length - 10), NAME, KEY_AUTHORIZATION)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(checkTlsAlpnCertificate(new Uint8Array(), NAME, KEY_AUTHORIZATION)).toMatchObject({ ok: false, reason: 'malformed' });
  });
});
