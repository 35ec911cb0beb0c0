/**
 * The synchronous CSR reader (readCsr) beyond what csr.test.ts covers for parseCsr: DER input, the
 * SPKI kept byte for byte, every accepted signature algorithm, and refusals that name what was
 * wrong — including CSRs crafted here from real ones, re-assembled with different parts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyAlgorithm } from '../../../core/types.js';
import { CsrError, readCsr } from '../../../ca/csr.js';
import { bitString, oid, sequence } from '../../../ca/der-writer.js';
import { children, parseDer } from '../../../ca/der-reader.js';
import { makeTempDir, openssl, type TempDir } from './support.js';

const SAN = 'subjectAltName=DNS:svc.example.com,IP:10.0.0.1,URI:spiffe://example.com/svc';
const EC = (curve: string) => ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`];

const REQUESTS: Record<string, string[]> = {
  p256: [...EC('P-256'), '-subj', '/CN=svc.example.com', '-addext', SAN],
  p256sha512: [...EC('P-256'), '-sha512', '-subj', '/CN=svc.example.com'],
  p384sha256: [...EC('P-384'), '-sha256', '-subj', '/CN=svc.example.com'],
  rsa3072sha384: ['-newkey', 'rsa:3072', '-sha384', '-subj', '/CN=svc.example.com'],
  rsa4096: ['-newkey', 'rsa:4096', '-subj', '/CN=svc.example.com'],
  rsaPss: ['-newkey', 'rsa:2048', '-sigopt', 'rsa_padding_mode:pss', '-subj', '/CN=svc.example.com'],
  rsaMd5: ['-newkey', 'rsa:2048', '-md5', '-subj', '/CN=svc.example.com'],
  ecSha1: [...EC('P-256'), '-sha1', '-subj', '/CN=svc.example.com'],
  rsa2048: ['-newkey', 'rsa:2048', '-subj', '/CN=svc.example.com'],
  ed25519: ['-newkey', 'ed25519', '-subj', '/CN=svc.example.com'],
  p521: [...EC('P-521'), '-subj', '/CN=svc.example.com'],
  utf8: [...EC('P-256'), '-utf8', '-subj', '/CN=bücher.example.com'],
};

let dir: TempDir;
const csrs: Record<string, string> = {};

beforeAll(async () => {
  dir = await makeTempDir('csr-fast');
  await Promise.all(
    Object.entries(REQUESTS).map(async ([name, args]) => {
      const result = await openssl(['req', '-new', '-nodes', ...args, '-keyout', `${name}.key`, '-out', `${name}.csr`], dir.path);
      if (result.code !== 0) throw new Error(`openssl req for ${name} failed: ${result.stderr}`);
      csrs[name] = (await openssl(['req', '-in', `${name}.csr`], dir.path)).stdout;
    }),
  );
}, 120_000);
afterAll(() => dir?.remove());

const pemToDer = (pem: string): Buffer => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');

/** Re-assembles a CSR from its parts, replacing some: the signature then no longer matters. */
function reassemble(pem: string, replace: { spki?: Buffer; algorithm?: Buffer; signature?: Buffer; trailing?: Buffer }): Buffer {
  const [info, algorithm, signature] = children(parseDer(pemToDer(pem)));
  const [version, subject, spki, attributes] = children(info!);
  const newInfo = sequence(version!.raw, subject!.raw, replace.spki ?? spki!.raw, ...(attributes ? [attributes.raw] : []));
  const newSignature = replace.signature ? bitString(replace.signature) : signature!.raw;
  return Buffer.concat([sequence(newInfo, replace.algorithm ?? algorithm!.raw, newSignature), replace.trailing ?? Buffer.alloc(0)]);
}

/** A P-256 SPKI whose point is replaced. */
function p256SpkiWithPoint(point: Buffer): Buffer {
  return sequence(sequence(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), bitString(point));
}

/** The CSR's P-256 point in compressed form (0x02/0x03 by the parity of y, then x). */
function compressedPoint(pem: string): Buffer {
  const point = Buffer.from(readCsr(pem).publicKeySpki).subarray(-65);
  return Buffer.concat([Buffer.from([0x02 | (point[64]! & 1)]), point.subarray(1, 33)]);
}

describe('readCsr', () => {
  const ok: { name: string; csr: string; keyAlgorithm: KeyAlgorithm; signatureAlgorithm: string }[] = [
    { name: 'ok/P-256 ecdsa-with-SHA256', csr: 'p256', keyAlgorithm: 'ECDSA-P256', signatureAlgorithm: 'ecdsa-with-SHA256' },
    { name: 'ok/P-256 ecdsa-with-SHA512', csr: 'p256sha512', keyAlgorithm: 'ECDSA-P256', signatureAlgorithm: 'ecdsa-with-SHA512' },
    { name: 'ok/P-384 ecdsa-with-SHA256', csr: 'p384sha256', keyAlgorithm: 'ECDSA-P384', signatureAlgorithm: 'ecdsa-with-SHA256' },
    { name: 'ok/RSA-3072 sha384WithRSAEncryption', csr: 'rsa3072sha384', keyAlgorithm: 'RSA-3072', signatureAlgorithm: 'sha384WithRSAEncryption' },
    { name: 'ok/RSA-4096 sha256WithRSAEncryption', csr: 'rsa4096', keyAlgorithm: 'RSA-4096', signatureAlgorithm: 'sha256WithRSAEncryption' },
    { name: 'ok/Ed25519', csr: 'ed25519', keyAlgorithm: 'Ed25519', signatureAlgorithm: 'Ed25519' },
  ];
  it.each(ok)('$name', async ({ csr, keyAlgorithm, signatureAlgorithm }) => {
    const parsed = readCsr(csrs[csr]!);
    expect(parsed).toMatchObject({ keyAlgorithm, signatureAlgorithm, commonName: 'svc.example.com' });
    // the SPKI is the CSR's, byte for byte
    const fromOpenssl = await openssl(['req', '-in', `${csr}.csr`, '-noout', '-pubkey'], dir.path);
    expect(parsed.publicKeySpki).toEqual(pemToDer(fromOpenssl.stdout));
  });

  it('ok/DER bytes are accepted as well as PEM, with the same result', () => {
    expect(readCsr(pemToDer(csrs.p256!))).toEqual(readCsr(csrs.p256!));
  });

  it('ok/all three kinds of SAN and the CN', () => {
    expect(readCsr(csrs.p256!)).toMatchObject({
      commonName: 'svc.example.com',
      dnsNames: ['svc.example.com'],
      ipAddresses: ['10.0.0.1'],
      uris: ['spiffe://example.com/svc'],
    });
  });

  it('ok/a UTF8String CN is decoded', () => {
    expect(readCsr(csrs.utf8!).commonName).toBe('bücher.example.com');
  });

  it('ok/"NEW CERTIFICATE REQUEST" armour and text around the block', () => {
    const pem = csrs.p256!.replaceAll('CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST');
    expect(readCsr(`Certificate Request:\n  (text)\n${pem}trailing text`).keyAlgorithm).toBe('ECDSA-P256');
  });

  const ECDSA_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));
  const fail: { name: string; csr: () => string | Buffer; reason: RegExp }[] = [
    { name: 'fail/MD5 is named', csr: () => csrs.rsaMd5!, reason: /signed with MD5 \(md5WithRSAEncryption\)/ },
    { name: 'fail/ECDSA with SHA-1 is named', csr: () => csrs.ecSha1!, reason: /signed with SHA-1 \(ecdsa-with-SHA1\)/ },
    { name: 'fail/RSASSA-PSS is refused by name', csr: () => csrs.rsaPss!, reason: /signed with RSASSA-PSS, which is not supported/ },
    { name: 'fail/unknown signature algorithm shows its OID', csr: () => reassemble(csrs.p256!, { algorithm: sequence(oid('1.2.3.4.5')) }), reason: /signed with OID 1\.2\.3\.4\.5/ },
    { name: 'fail/P-521 key names the curve', csr: () => csrs.p521!, reason: /unsupported type: an EC key on curve P-521/ },
    { name: 'fail/compressed EC point', csr: () => reassemble(csrs.p256!, { spki: p256SpkiWithPoint(compressedPoint(csrs.p256!)) }), reason: /compressed point \(Certflow needs the uncompressed form\)/ },
    { name: 'fail/ECDSA signature algorithm on an RSA key', csr: () => reassemble(csrs.rsa2048!, { algorithm: ECDSA_SHA256 }), reason: /ecdsa-with-SHA256, which does not match its RSA-2048 key/ },
    { name: 'fail/ECDSA signature algorithm on an Ed25519 key', csr: () => reassemble(csrs.ed25519!, { algorithm: ECDSA_SHA256 }), reason: /does not match its Ed25519 key/ },
    { name: 'fail/P-256 point not on the curve', csr: () => reassemble(csrs.p256!, { spki: p256SpkiWithPoint(Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)])) }), reason: /invalid ECDSA-P256 public key/ },
    { name: 'fail/P-256 point at infinity', csr: () => reassemble(csrs.p256!, { spki: p256SpkiWithPoint(Buffer.from([0])) }), reason: /not a PEM-encoded PKCS#10 certificate request: malformed P-256 public key point/ },
    { name: 'fail/ECDSA signature that is not DER', csr: () => reassemble(csrs.p256!, { signature: Buffer.from('not an ECDSA-Sig-Value') }), reason: /signature does not verify/ },
    { name: 'fail/trailing bytes after the DER', csr: () => reassemble(csrs.p256!, { trailing: Buffer.from([0]) }), reason: /trailing data/ },
    { name: 'fail/signature over other bytes (CSR of another key, same subject)', csr: () => reassemble(csrs.p256!, { spki: Buffer.from(readCsr(csrs.p256sha512!).publicKeySpki) }), reason: /signature does not verify/ },
    { name: 'fail/PEM of another type', csr: () => '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n', reason: /not a PEM-encoded PKCS#10/ },
    { name: 'fail/empty DER', csr: () => Buffer.alloc(0), reason: /not a PEM-encoded PKCS#10 certificate request: unexpected end of data/ },
  ];
  it.each(fail)('$name', ({ csr, reason }) => {
    const input = csr();
    expect(() => readCsr(input)).toThrow(CsrError);
    expect(() => readCsr(input)).toThrow(reason);
  });
});
