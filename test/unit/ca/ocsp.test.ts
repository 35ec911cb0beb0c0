/**
 * ca/ocsp.ts: requests made by independent clients (the openssl binary, pkijs) are parsed, and the
 * responses built are checked by independent verifiers (`openssl ocsp`, pkijs). openssl checks
 * response times against the real clock, so the injected clock here is "now" (fixed once per run).
 */
import { createHash, webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildOcspResponse,
  certIdMatchesIssuer,
  encodeCertId,
  issuerHashes,
  MAX_NONCE_LENGTH,
  OCSP_OIDS,
  ocspErrorResponse,
  OcspRequestError,
  parseOcspRequest,
  type CertStatus,
  type OcspResponder,
} from '../../../ca/ocsp.js';
import { certificateFacts } from '../../../ca/certificate-facts.js';
import { buildOcspResponderCertificate } from '../../support/ocsp-responder-certificate.js';
import { contextExplicit, octetString, oid, sequence, smallInteger, tlv, nullValue, unsignedInteger } from '../../../ca/der-writer.js';
import { generateKeyPair } from '../../../ca/keys.js';
import { randomSerial } from '../../../ca/serial.js';
import type { Signer } from '../../../ca/signer.js';
import type { x509 } from '../../../ca/x509.js';
import { type Hierarchy, makeTempDir, openssl, type TempDir } from './support.js';
import { hierarchyAt, leafOf, rootOf, signerOf } from './revocation-support.js';

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }));

const CLOCK = new Date(Math.floor(Date.now() / 1000) * 1000);
const CA_CREATED = new Date(CLOCK.getTime() - 2 * 3_600_000);
const PRODUCED_AT = CLOCK;
const NEXT_UPDATE = new Date(PRODUCED_AT.getTime() + 24 * 3_600_000);
const REVOKED_AT = new Date(CLOCK.getTime() - 30 * 60_000);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** A time as openssl prints it, e.g. "Jan  1 02:00:00 2025 GMT". */
const printed = (date: Date) =>
  `${MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, ' ')} ${date.toISOString().slice(11, 19)} ${date.getUTCFullYear()} GMT`;

let ca: Hierarchy;
let signer: Signer;
let goodLeaf: x509.X509Certificate;
let revokedLeaf: x509.X509Certificate;
let dir: TempDir;

beforeAll(async () => {
  ca = await hierarchyAt(CA_CREATED);
  signer = await signerOf(ca.intermediate);
  goodLeaf = await leafOf(ca, 'good.example.com', new Date(CA_CREATED.getTime() + 60_000));
  revokedLeaf = await leafOf(ca, 'revoked.example.com', new Date(CA_CREATED.getTime() + 60_000));
  dir = await makeTempDir('ocsp');
  await dir.write('root.pem', ca.root.certificate.toString('pem'));
  await dir.write('intermediate.pem', ca.intermediate.certificate.toString('pem'));
  await dir.write('chain.pem', `${ca.intermediate.certificate.toString('pem')}\n${ca.root.certificate.toString('pem')}\n`);
  await dir.write('good.pem', goodLeaf.toString('pem'));
  await dir.write('revoked.pem', revokedLeaf.toString('pem'));
});

afterAll(async () => {
  await dir?.remove();
});

/** An OCSP request made by the openssl binary (with its default 16-octet nonce unless `-no_nonce`). */
async function opensslRequest(name: string, args: string[]): Promise<Buffer> {
  const out = `${dir.path}/${name}.req`;
  const made = await openssl(['ocsp', '-issuer', `${dir.path}/intermediate.pem`, ...args, '-reqout', out]);
  expect(made.code, made.stderr).toBe(0);
  return readFile(out);
}

function serialOf(certificate: x509.X509Certificate): string {
  return certificate.serialNumber.toLowerCase();
}

describe('parseOcspRequest', () => {
  it('ok/openssl SHA-1 request with nonce', async () => {
    const request = parseOcspRequest(await opensslRequest('sha1', ['-cert', `${dir.path}/good.pem`]));
    expect(request.certIds).toHaveLength(1);
    const [certId] = request.certIds;
    expect(certId!.hashAlgorithm).toBe('sha1');
    expect(certId!.serial).toBe(serialOf(goodLeaf));
    expect(certIdMatchesIssuer(certId!, issuerHashes(ca.intermediate.certificate.toString('pem')))).toBe(true);
    expect(certIdMatchesIssuer(certId!, issuerHashes(ca.root.certificate.toString('pem')))).toBe(false);
    expect(request.nonce).toHaveLength(16);
    expect(request.nonceExtnValue).toEqual(Buffer.concat([Buffer.from([0x04, 16]), request.nonce!]));
    expect(request.signed).toBe(false);
  });

  it('ok/openssl SHA-256 request for two certificates, no nonce', async () => {
    const request = parseOcspRequest(await opensslRequest('sha256', ['-sha256', '-cert', `${dir.path}/good.pem`, '-cert', `${dir.path}/revoked.pem`, '-no_nonce']));
    expect(request.certIds.map((id) => [id.hashAlgorithm, id.serial])).toEqual([
      ['sha256', serialOf(goodLeaf)],
      ['sha256', serialOf(revokedLeaf)],
    ]);
    expect(request.certIds.every((id) => certIdMatchesIssuer(id, issuerHashes(ca.intermediate.certificate.toString('pem'))))).toBe(true);
    expect(request.nonce).toBeNull();
  });

  it('ok/pkijs request (SHA-256 CertID) matches the CertID Certflow encodes', async () => {
    const pkiRequest = new pkijs.OCSPRequest();
    await pkiRequest.createForCertificate(pkijs.Certificate.fromBER(goodLeaf.rawData), {
      hashAlgorithm: 'SHA-256',
      issuerCertificate: pkijs.Certificate.fromBER(ca.intermediate.certificate.rawData),
    });
    const der = Buffer.from(pkiRequest.toSchema(true).toBER());
    const [certId] = parseOcspRequest(der).certIds;
    expect(certId!.raw).toEqual(encodeCertId('sha256', issuerHashes(ca.intermediate.certificate.toString('pem')), serialOf(goodLeaf)));
  });

  it('ok/issuer hashes are those of RFC 6960 §4.1.1 (subject DER and key bits)', () => {
    const facts = certificateFacts(ca.intermediate.certificate.toString('pem'));
    const hashes = issuerHashes(facts);
    expect(hashes.sha1.nameHash).toEqual(createHash('sha1').update(Buffer.from(ca.intermediate.certificate.subjectName.toArrayBuffer())).digest());
    // The key hash covers the BIT STRING contents: for P-256, the 65-octet uncompressed point.
    expect(facts.publicKeyBits).toHaveLength(65);
    expect(hashes.sha256.keyHash).toEqual(createHash('sha256').update(facts.publicKeyBits).digest());
  });

  it('ok/unsupported hash algorithm is parsed but matches no issuer', () => {
    const certId = sequence(sequence(oid('2.16.840.1.101.3.4.2.3')), octetString(Buffer.alloc(64)), octetString(Buffer.alloc(64)), unsignedInteger(Buffer.from([1])));
    const [parsed] = parseOcspRequest(sequence(sequence(sequence(sequence(certId))))).certIds;
    expect(parsed!.hashAlgorithm).toBeNull();
    expect(parsed!.hashAlgorithmOid).toBe('2.16.840.1.101.3.4.2.3');
    expect(certIdMatchesIssuer(parsed!, issuerHashes(ca.intermediate.certificate.toString('pem')))).toBe(false);
  });

  it('ok/unknown non-critical request extension is ignored', () => {
    const certId = sequence(sequence(oid(OCSP_OIDS.sha1), nullValue()), octetString(Buffer.alloc(20)), octetString(Buffer.alloc(20)), unsignedInteger(Buffer.from([5])));
    const parsed = parseOcspRequest(sequence(sequence(sequence(sequence(certId)), contextExplicit(2, sequence(sequence(oid('1.2.3.4'), octetString(nullValue())))))));
    expect(parsed.certIds[0]!.serial).toBe('05');
    expect(parsed.nonce).toBeNull();
  });

  const sha1CertId = () => sequence(sequence(oid(OCSP_OIDS.sha1), nullValue()), octetString(Buffer.alloc(20)), octetString(Buffer.alloc(20)), unsignedInteger(Buffer.from([5])));
  const withTbs = (...tbs: Buffer[]) => sequence(sequence(...tbs));
  const nonceExtensions = (value: Buffer) => contextExplicit(2, sequence(sequence(oid(OCSP_OIDS.nonce), octetString(value))));
  it.each<[string, () => Buffer]>([
    ['fail/empty input', () => Buffer.alloc(0)],
    ['fail/not DER', () => Buffer.from('hello, world')],
    ['fail/trailing bytes', () => Buffer.concat([withTbs(sequence(sequence(sha1CertId()))), Buffer.from([0])])],
    ['fail/indefinite length', () => Buffer.from([0x30, 0x80, 0x00, 0x00])],
    ['fail/truncated', () => withTbs(sequence(sequence(sha1CertId()))).subarray(0, 20)],
    ['fail/empty request list', () => withTbs(sequence())],
    ['fail/negative serial', () => withTbs(sequence(sequence(sequence(sequence(oid(OCSP_OIDS.sha1)), octetString(Buffer.alloc(20)), octetString(Buffer.alloc(20)), tlv(0x02, Buffer.from([0xff]))))))],
    ['fail/SHA-1 hash of the wrong size', () => withTbs(sequence(sequence(sequence(sequence(oid(OCSP_OIDS.sha1)), octetString(Buffer.alloc(32)), octetString(Buffer.alloc(20)), smallInteger(1)))))],
    ['fail/version 2', () => withTbs(contextExplicit(0, smallInteger(1)), sequence(sequence(sha1CertId())))],
    ['fail/nonce longer than 32 octets', () => withTbs(sequence(sequence(sha1CertId())), nonceExtensions(octetString(Buffer.alloc(MAX_NONCE_LENGTH + 1, 1))))],
    ['fail/empty nonce', () => withTbs(sequence(sequence(sha1CertId())), nonceExtensions(Buffer.alloc(0)))],
    ['fail/two nonces', () => withTbs(sequence(sequence(sha1CertId())), contextExplicit(2, sequence(...[1, 2].map(() => sequence(oid(OCSP_OIDS.nonce), octetString(octetString(Buffer.alloc(16, 7))))))))],
    ['fail/unknown critical extension', () => withTbs(sequence(sequence(sha1CertId())), contextExplicit(2, sequence(sequence(oid('1.2.3.4'), tlv(0x01, Buffer.from([0xff])), octetString(nullValue())))))],
  ])('%s', (_name, build) => {
    expect(() => parseOcspRequest(build())).toThrow(OcspRequestError);
  });
});

/** Parses a response with pkijs and returns the basic response. */
function pkijsBasic(der: Buffer): pkijs.BasicOCSPResponse {
  const response = new pkijs.OCSPResponse({ schema: asn1js.fromBER(der).result });
  expect(response.responseStatus.valueBlock.valueDec).toBe(0);
  return new pkijs.BasicOCSPResponse({ schema: asn1js.fromBER(response.responseBytes!.response.valueBlock.valueHexView).result });
}

/**
 * A minimal HTTP responder around ca/ocsp.ts, so the openssl binary can act as a real client
 * (`openssl ocsp -url`): only then does it send a nonce and check that the response echoes it.
 */
async function withResponder<T>(responder: OcspResponder, statusOf: (serial: string) => CertStatus, run: (url: string) => Promise<T>): Promise<T> {
  const server: Server = createServer((request, reply) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        const parsed = parseOcspRequest(Buffer.concat(chunks));
        const body = await buildOcspResponse(responder, {
          producedAt: PRODUCED_AT,
          nonceExtnValue: parsed.nonceExtnValue,
          responses: parsed.certIds.map((certId) => ({ certId: certId.raw, certStatus: statusOf(certId.serial), thisUpdate: PRODUCED_AT, nextUpdate: NEXT_UPDATE })),
        });
        reply.writeHead(200, { 'Content-Type': 'application/ocsp-response' }).end(body);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await run(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('buildOcspResponse', () => {
  const issuerSigned = (): OcspResponder => ({ signer });
  const statuses = (serial: string): CertStatus =>
    serial === serialOf(revokedLeaf) ? { status: 'revoked', revokedAt: REVOKED_AT, reason: 'keyCompromise' } : serial === serialOf(goodLeaf) ? { status: 'good' } : { status: 'unknown' };

  it('ok/openssl client: good and revoked (keyCompromise), nonce echoed, issuer-signed response verified', async () => {
    const checked = await withResponder(issuerSigned(), statuses, (url) =>
      openssl(['ocsp', '-url', url, '-issuer', `${dir.path}/intermediate.pem`, '-CAfile', `${dir.path}/chain.pem`, '-cert', `${dir.path}/good.pem`, '-cert', `${dir.path}/revoked.pem`, '-resp_text']),
    );
    expect(checked.stderr).toContain('Response verify OK');
    expect(checked.stderr).not.toMatch(/nonce/i); // openssl sent a nonce and found it echoed: no warning, no error
    expect(checked.stdout).toContain('OCSP Nonce:');
    expect(checked.stdout).toContain(`${dir.path}/good.pem: good\n\tThis Update: ${printed(PRODUCED_AT)}\n\tNext Update: ${printed(NEXT_UPDATE)}`);
    expect(checked.stdout).toContain(`${dir.path}/revoked.pem: revoked\n\tThis Update: ${printed(PRODUCED_AT)}\n\tNext Update: ${printed(NEXT_UPDATE)}\n\tReason: keyCompromise\n\tRevocation Time: ${printed(REVOKED_AT)}`);
    // byKey: SHA-1 over the issuer's subjectPublicKey bits.
    const keyHash = createHash('sha1').update(certificateFacts(ca.intermediate.certificate.toString('pem')).publicKeyBits).digest('hex').toUpperCase();
    expect(checked.stdout).toContain(`Responder Id: ${keyHash}`);
    expect(checked.code).toBe(0);
  });

  it('ok/openssl client: SHA-256 CertIDs are answered with SHA-256 CertIDs', async () => {
    const checked = await withResponder(issuerSigned(), statuses, (url) =>
      openssl(['ocsp', '-url', url, '-sha256', '-issuer', `${dir.path}/intermediate.pem`, '-CAfile', `${dir.path}/chain.pem`, '-cert', `${dir.path}/revoked.pem`, '-resp_text']),
    );
    expect(checked.stderr).toContain('Response verify OK');
    expect(checked.stdout).toContain('Hash Algorithm: sha256');
    expect(checked.stdout).toContain(`${dir.path}/revoked.pem: revoked`);
  });

  it('ok/openssl client: a response signed by another key is refused', async () => {
    const other = await rootOf('ECDSA-P256');
    const checked = await withResponder({ signer: await signerOf(other) }, statuses, (url) =>
      openssl(['ocsp', '-url', url, '-issuer', `${dir.path}/intermediate.pem`, '-CAfile', `${dir.path}/chain.pem`, '-cert', `${dir.path}/good.pem`]),
    );
    expect(checked.stderr).toContain('Response Verify Failure');
  });

  it('ok/pkijs: verifies the issuer-signed response and reads good / revoked / unknown', async () => {
    const hashes = issuerHashes(ca.intermediate.certificate.toString('pem'));
    const response = await buildOcspResponse(issuerSigned(), {
      producedAt: PRODUCED_AT,
      responses: [
        { certId: encodeCertId('sha256', hashes, serialOf(goodLeaf)), certStatus: { status: 'good' }, thisUpdate: PRODUCED_AT, nextUpdate: NEXT_UPDATE },
        { certId: encodeCertId('sha1', hashes, serialOf(revokedLeaf)), certStatus: { status: 'revoked', revokedAt: REVOKED_AT, reason: 'superseded' }, thisUpdate: PRODUCED_AT },
        { certId: encodeCertId('sha1', hashes, randomSerial()), certStatus: { status: 'unknown' }, thisUpdate: PRODUCED_AT, nextUpdate: NEXT_UPDATE },
      ],
    });
    const basic = pkijsBasic(response);
    expect(basic.certs ?? []).toHaveLength(0);
    const intermediate = pkijs.Certificate.fromBER(ca.intermediate.certificate.rawData);
    const root = pkijs.Certificate.fromBER(ca.root.certificate.rawData);
    // pkijs only looks for the signer among the response's certs: hand it the issuer, which is what the response names by key.
    basic.certs = [intermediate];
    expect(await basic.verify({ trustedCerts: [root], issuerCerts: [intermediate] })).toBe(true);
    expect(basic.tbsResponseData.producedAt).toEqual(PRODUCED_AT);
    expect(basic.tbsResponseData.responses.map((single) => single.certStatus.idBlock.tagNumber)).toEqual([0, 1, 2]);
    expect(basic.tbsResponseData.responses[1]!.nextUpdate).toBeUndefined();
    expect(await basic.getCertificateStatus(pkijs.Certificate.fromBER(goodLeaf.rawData), intermediate)).toMatchObject({ isForCertificate: true, status: 0 });
    expect(await basic.getCertificateStatus(pkijs.Certificate.fromBER(revokedLeaf.rawData), intermediate)).toMatchObject({ isForCertificate: true, status: 1 });
    // Signed by the root instead: pkijs rejects it.
    const rootSigned = pkijsBasic(await buildOcspResponse({ signer: await signerOf(ca.root) }, {
      producedAt: PRODUCED_AT,
      responses: [{ certId: encodeCertId('sha1', hashes, serialOf(goodLeaf)), certStatus: { status: 'good' }, thisUpdate: PRODUCED_AT }],
    }));
    rootSigned.certs = [intermediate];
    await expect(rootSigned.verify({ trustedCerts: [root], issuerCerts: [intermediate] })).rejects.toThrow(/No certificate matching the OCSP responderID/);
  });

  it('ok/delegated responder: id-kp-OCSPSigning + nocheck certificate in certs, verified by openssl and pkijs', async () => {
    const responderKeys = await generateKeyPair('ECDSA-P256');
    const responderCert = await buildOcspResponderCertificate(ca.issuer, {
      serial: randomSerial(),
      commonName: 'Certflow Test OCSP Responder',
      publicKey: responderKeys.publicKey,
      notBefore: CA_CREATED,
      validitySeconds: 3 * 86_400,
    });
    const responder: OcspResponder = {
      signer: await signerOf({ certificate: responderCert, keys: responderKeys, keyAlgorithm: 'ECDSA-P256' }),
      delegatedCertificate: new Uint8Array(responderCert.rawData),
    };
    const checked = await withResponder(responder, statuses, (url) =>
      openssl(['ocsp', '-url', url, '-issuer', `${dir.path}/intermediate.pem`, '-CAfile', `${dir.path}/root.pem`, '-cert', `${dir.path}/revoked.pem`, '-resp_text']),
    );
    expect(checked.stderr).toContain('Response verify OK');
    expect(checked.stdout).toContain(`${dir.path}/revoked.pem: revoked`);
    expect(checked.stdout).toContain('OCSP Signing');
    expect(checked.stdout).toContain('OCSP No Check');
    expect(checked.stdout).toContain(`Responder Id: ${createHash('sha1').update(certificateFacts(new Uint8Array(responderCert.rawData)).publicKeyBits).digest('hex').toUpperCase()}`);

    // Trusting another root, the delegated responder's chain does not verify: openssl refuses.
    const otherRoot = await rootOf('ECDSA-P256');
    const otherRootFile = await dir.write('other-root.pem', otherRoot.certificate.toString('pem'));
    const untrusted = await withResponder(responder, statuses, (url) =>
      openssl(['ocsp', '-url', url, '-issuer', `${dir.path}/intermediate.pem`, '-CAfile', otherRootFile, '-cert', `${dir.path}/revoked.pem`]),
    );
    expect(untrusted.stderr).toContain('Response Verify Failure');

    const hashes = issuerHashes(ca.intermediate.certificate.toString('pem'));
    const basic = pkijsBasic(await buildOcspResponse(responder, {
      producedAt: PRODUCED_AT,
      responses: [{ certId: encodeCertId('sha1', hashes, serialOf(revokedLeaf)), certStatus: { status: 'revoked', revokedAt: REVOKED_AT, reason: 'cessationOfOperation' }, thisUpdate: PRODUCED_AT }],
    }));
    expect(basic.certs).toHaveLength(1);
    const intermediate = pkijs.Certificate.fromBER(ca.intermediate.certificate.rawData);
    expect(await basic.verify({ trustedCerts: [pkijs.Certificate.fromBER(ca.root.certificate.rawData)], issuerCerts: [intermediate] })).toBe(true);
  });

  it('ok/unspecified reason: revoked without revocationReason', async () => {
    const hashes = issuerHashes(ca.intermediate.certificate.toString('pem'));
    const response = await buildOcspResponse(issuerSigned(), {
      producedAt: PRODUCED_AT,
      responses: [{ certId: encodeCertId('sha1', hashes, serialOf(revokedLeaf)), certStatus: { status: 'revoked', revokedAt: REVOKED_AT, reason: 'unspecified' }, thisUpdate: PRODUCED_AT, nextUpdate: NEXT_UPDATE }],
    });
    const checked = await openssl([
      'ocsp', '-respin', await dir.write('unspecified.resp', response), '-no_nonce', '-issuer', `${dir.path}/intermediate.pem`, '-cert', `${dir.path}/revoked.pem`,
      '-CAfile', `${dir.path}/chain.pem`,
    ]);
    expect(checked.stderr).toContain('Response verify OK');
    expect(checked.stdout).toContain(`${dir.path}/revoked.pem: revoked\n\tThis Update: ${printed(PRODUCED_AT)}\n\tNext Update: ${printed(NEXT_UPDATE)}\n\tRevocation Time: ${printed(REVOKED_AT)}`);
    const single = pkijsBasic(response).tbsResponseData.responses[0]!;
    expect((single.certStatus as asn1js.Constructed).valueBlock.value).toHaveLength(1);
  });

  it('ok/golden: a fixed clock and a deterministic signer (Ed25519) give byte-identical responses', async () => {
    const edRoot = await rootOf('Ed25519');
    const edSigner = await signerOf(edRoot);
    const hashes = issuerHashes(edRoot.certificate.toString('pem'));
    const fixed = new Date('2025-01-01T02:00:00Z');
    const options = {
      producedAt: fixed,
      nonceExtnValue: octetString(Buffer.alloc(16, 0xab)),
      responses: [{ certId: encodeCertId('sha1', hashes, '0a0b'), certStatus: { status: 'good' as const }, thisUpdate: fixed, nextUpdate: new Date(fixed.getTime() + 3_600_000) }],
    };
    const first = await buildOcspResponse({ signer: edSigner }, options);
    expect(await buildOcspResponse({ signer: edSigner }, options)).toEqual(first);
    const basic = pkijsBasic(first);
    expect(basic.tbsResponseData.producedAt).toEqual(fixed);
    expect(basic.tbsResponseData.responseExtensions?.[0]?.extnID).toBe(OCSP_OIDS.nonce);
  });

  it('fail/delegated certificate does not belong to the signer', async () => {
    const hashes = issuerHashes(ca.intermediate.certificate.toString('pem'));
    await expect(
      buildOcspResponse({ signer, delegatedCertificate: new Uint8Array(goodLeaf.rawData) }, {
        producedAt: PRODUCED_AT,
        responses: [{ certId: encodeCertId('sha1', hashes, '01'), certStatus: { status: 'good' }, thisUpdate: PRODUCED_AT }],
      }),
    ).rejects.toThrow(/delegated responder/);
  });

  it.each([
    ['malformedRequest', '30030a0101'],
    ['internalError', '30030a0102'],
    ['tryLater', '30030a0103'],
    ['unauthorized', '30030a0106'],
  ] as const)('ok/error response %s', async (status, hex) => {
    const der = ocspErrorResponse(status);
    expect(der.toString('hex')).toBe(hex);
    const shown = await openssl(['ocsp', '-respin', await dir.write(`${status}.resp`, der), '-resp_text', '-noverify']);
    expect(shown.stdout.trim()).toBe(`Responder Error: ${status.toLowerCase()} (${hex.slice(-1)})`);
  });
});
