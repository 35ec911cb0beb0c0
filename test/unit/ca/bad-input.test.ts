/**
 * Hostile and broken input, end to end through the issuance pipeline (ca/issuance.ts
 * `issueFromRequest`): malformed CSRs, weak or unsupported keys (inside real CSRs where openssl
 * can sign with them, as a bare SubjectPublicKeyInfo otherwise) and hostile names. Every refusal
 * must name its specific reason, and nothing may be signed: the issuer's Signer counts signatures.
 */
import { KeyObject } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_SANS } from '../../../core/names.js';
import type { TeamPolicy } from '../../../core/policy.js';
import { KEY_ALGORITHMS, PROFILES, type Profile } from '../../../core/types.js';
import { createRootCa } from '../../../ca/authority.js';
import { bitString, nullValue, oid, sequence, smallInteger } from '../../../ca/der-writer.js';
import { IssuanceError, issueFromRequest, type IssuanceDeps, type IssuanceErrorCode, type IssuedLeaf } from '../../../ca/issuance.js';
import { inMemoryBlocklist, spkiSha256Hex, type KeyCheckReason } from '../../../ca/key-checks.js';
import { LeafTemplates } from '../../../ca/leaf-template.js';
import { issuerUrls } from '../../../ca/profiles.js';
import { randomSerial } from '../../../ca/serial.js';
import { softwareSigner, type Signer } from '../../../ca/signer.js';
import { makeTempDir, NOW, openssl, type TempDir } from './support.js';
import {
  closePrimesKey,
  derChildren,
  derSequence,
  ecPointOf,
  ecSpki,
  nodeKeyPair,
  oddNumberOfBits,
  OIDS,
  rocaKey,
  rsaKeyOfBits,
  rsaSpki,
  smallFactorKey,
  spkiOf,
} from './weak-keys.js';

// ---------------------------------------------------------------------------------------------
// The pipeline under test, with an issuer whose Signer counts what it signs.

const PERMISSIVE_POLICY: TeamPolicy = {
  allowedDomains: ['example.com', 'xn--p1ai'],
  allowWildcards: true,
  allowIpSans: true,
  maxValiditySeconds: 365 * 86_400,
  keyAlgorithms: [...KEY_ALGORITHMS],
  profiles: [...PROFILES],
  allowedUris: { spiffe: [{ trustDomain: 'example.com', pathPrefixes: ['/'] }], httpsHosts: ['example.com'] },
};

let signatures = 0;
let deps: IssuanceDeps;

interface Submission {
  /** A PEM CSR; without one, `spki` (or a good P-256 key) is submitted bare. */
  csr?: string;
  spki?: Uint8Array;
  commonName?: string | null;
  dnsNames?: string[];
  ipAddresses?: string[];
  uris?: string[];
  profile?: Profile;
}

/** What a client submits, as the API hands it to the pipeline (team policy permissive: only input validation decides). */
function submit(submission: Submission): Promise<IssuedLeaf> {
  return issueFromRequest(deps, {
    key: submission.csr !== undefined ? { csrPem: submission.csr } : { publicKeySpki: submission.spki ?? keys.p256!.spki },
    ...(submission.commonName !== undefined ? { commonName: submission.commonName } : {}),
    dnsNames: submission.dnsNames ?? [],
    ipAddresses: submission.ipAddresses ?? [],
    uris: submission.uris ?? [],
    profile: submission.profile ?? 'tls-server',
    validitySeconds: 90 * 86_400,
    teamPolicy: PERMISSIVE_POLICY,
  });
}

function countingSigner(inner: Signer): Signer {
  return {
    keyAlgorithm: inner.keyAlgorithm,
    publicKeySpki: inner.publicKeySpki,
    sign: (data) => {
      signatures++;
      return inner.sign(data);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Keys and CSRs, generated once.

interface KeyFiles {
  spki: Buffer;
  privateKeyPem: string;
}
const keys: Record<string, KeyFiles> = {};
const csrs: Record<string, string> = {};
let dir: TempDir;

const SAN = 'subjectAltName=DNS:svc.example.com,DNS:www.example.com,IP:10.0.0.1';
const CN = '/CN=svc.example.com';

/** CSR name → [key name, extra `openssl req` arguments]. */
const REQUESTS: Record<string, [string, string[]]> = {
  p256: ['p256', ['-subj', CN, '-addext', SAN]],
  rsa2048: ['rsa2048', ['-subj', CN, '-addext', SAN]],
  ed25519: ['ed25519', ['-subj', '/CN=client-1', '-addext', 'subjectAltName=URI:spiffe://example.com/ns/default/sa/client-1']],
  rsaSha1: ['rsa2048', ['-sha1', '-subj', CN]],
  rsaMd5: ['rsa2048', ['-md5', '-subj', CN]],
  ecdsaSha1: ['p256', ['-sha1', '-subj', CN]],
  ecdsaSha224: ['p256', ['-sha224', '-subj', CN]],
  exponent3: ['exponent3', ['-subj', CN]],
  rsa1024: ['rsa1024', ['-subj', CN]],
  rsa2049: ['rsa2049', ['-subj', CN]],
  smallFactor: ['smallFactor', ['-subj', CN]],
  roca: ['roca', ['-subj', CN]],
  closePrimes: ['closePrimes', ['-subj', CN]],
  p521: ['p521', ['-subj', CN]],
  secp256k1: ['secp256k1', ['-subj', CN]],
  ed448: ['ed448', ['-subj', CN]],
  blocked: ['blocked', ['-subj', CN]],
  fakeALabel: ['p256', ['-subj', '/CN=xn--zz.example.com']],
  wildcardInMiddle: ['p256', ['-subj', '/', '-addext', 'subjectAltName=DNS:a.*.example.com']],
  underscoreCn: ['p256', ['-subj', '/CN=_srv.example.com']],
  ipAsDnsSan: ['p256', ['-subj', '/', '-addext', 'subjectAltName=DNS:0x7f000001']],
  tooManySans: ['p256', ['-subj', '/', '-addext', `subjectAltName=${Array.from({ length: MAX_SANS + 1 }, (_, i) => `DNS:h${i}.example.com`).join(',')}`]],
};

beforeAll(async () => {
  const node = (type: Parameters<typeof nodeKeyPair>[0], options?: Parameters<typeof nodeKeyPair>[1]): KeyFiles => {
    const pair = nodeKeyPair(type, options);
    return { spki: spkiOf(pair.publicKey), privateKeyPem: pair.privateKeyPem };
  };
  Object.assign(keys, {
    p256: node('ec', { namedCurve: 'P-256' }),
    p384: node('ec', { namedCurve: 'P-384' }),
    blocked: node('ec', { namedCurve: 'P-256' }),
    rsa2048: node('rsa', { modulusLength: 2048 }),
    exponent3: node('rsa', { modulusLength: 2048, publicExponent: 3 }),
    rsa1024: node('rsa', { modulusLength: 1024 }),
    p521: node('ec', { namedCurve: 'P-521' }),
    secp256k1: node('ec', { namedCurve: 'secp256k1' }),
    ed25519: node('ed25519'),
    ed448: node('ed448'),
    x25519: { spki: spkiOf(nodeKeyPair('x25519').publicKey), privateKeyPem: '' },
    rsa2049: rsaKeyOfBits(2049),
    rsa2056: rsaKeyOfBits(2056),
    smallFactor: smallFactorKey(),
    roca: rocaKey(),
    closePrimes: closePrimesKey(20),
  });

  dir = await makeTempDir('bad-input');
  await Promise.all(
    Object.entries(keys)
      .filter(([, key]) => key.privateKeyPem !== '')
      .map(([name, key]) => dir.write(`${name}.key`, key.privateKeyPem)),
  );
  await Promise.all(
    Object.entries(REQUESTS).map(async ([name, [key, args]]) => {
      const result = await openssl(['req', '-new', '-key', `${key}.key`, ...args, '-out', `${name}.csr`], dir.path);
      if (result.code !== 0) throw new Error(`openssl req for ${name} failed: ${result.stderr}`);
      csrs[name] = (await openssl(['req', '-in', `${name}.csr`], dir.path)).stdout;
    }),
  );

  const root = await createRootCa({ commonName: 'Certflow Bad Input CA', organization: 'Certflow Test', keyAlgorithm: 'ECDSA-P256', validityDays: 3650, now: NOW, serial: randomSerial });
  const signer = countingSigner(softwareSigner(KeyObject.from(root.keys.privateKey), root.keyAlgorithm));
  deps = {
    templates: new LeafTemplates({ id: 'iss_bad_input', certificateDer: new Uint8Array(root.certificate.rawData), signer, urls: issuerUrls('http://127.0.0.1:8080', 'iss_bad_input') }),
    now: () => new Date(NOW.getTime() + 86_400_000),
    serial: randomSerial,
    keyBlocklist: inMemoryBlocklist([spkiSha256Hex(keys.blocked!.spki)]),
  };
}, 120_000);
afterAll(() => dir?.remove());
beforeEach(() => {
  signatures = 0;
});

// ---------------------------------------------------------------------------------------------
// Builders of broken CSRs from good ones.

const pemToDer = (pem: string): Buffer => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
const derToPem = (der: Uint8Array, label = 'CERTIFICATE REQUEST'): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;

/** Rebuilds a CSR with its parts changed: CertificationRequest ::= SEQUENCE { info, signatureAlgorithm, signature }. */
function rebuildCsr(pem: string, change: { info?: (parts: Buffer[]) => Buffer[]; signatureAlgorithm?: Buffer }): string {
  const [info, algorithm, signature] = derChildren(pemToDer(pem));
  const infoParts = derChildren(info!);
  const newInfo = change.info ? derSequence(...change.info(infoParts)) : info!;
  return derToPem(derSequence(newInfo, change.signatureAlgorithm ?? algorithm!, signature!));
}

/** The CSR with its SubjectPublicKeyInfo (the third part of the info) replaced; its signature no longer matches. */
const withSpki = (pem: string, spki: Uint8Array): string => rebuildCsr(pem, { info: ([version, subject, , attributes]) => [version!, subject!, Buffer.from(spki), attributes!] });

function flipLastByte(pem: string): string {
  const der = pemToDer(pem);
  der[der.length - 1]! ^= 0x01;
  return derToPem(der);
}

function replaceText(pem: string, from: string, to: string): string {
  const der = pemToDer(pem);
  const at = der.indexOf(from);
  if (at < 0 || from.length !== to.length) throw new Error(`cannot replace "${from}"`);
  der.write(to, at, 'latin1');
  return derToPem(der);
}

const label = (length: number): string => 'a'.repeat(length);

// ---------------------------------------------------------------------------------------------

describe('bad input: accepted', () => {
  const ok: { name: string; submission: () => Submission; dnsNames: string[]; ipAddresses?: string[] }[] = [
    { name: 'ok/P-256 CSR with DNS and IP SANs', submission: () => ({ csr: csrs.p256! }), dnsNames: ['svc.example.com', 'www.example.com'], ipAddresses: ['10.0.0.1'] },
    { name: 'ok/RSA-2048 CSR', submission: () => ({ csr: csrs.rsa2048! }), dnsNames: ['svc.example.com', 'www.example.com'], ipAddresses: ['10.0.0.1'] },
    { name: 'ok/Ed25519 CSR on tls-client', submission: () => ({ csr: csrs.ed25519!, commonName: null, profile: 'tls-client' }), dnsNames: [] },
    { name: 'ok/bare P-384 key', submission: () => ({ spki: keys.p384!.spki, dnsNames: ['db.example.com'] }), dnsNames: ['db.example.com'] },
    { name: 'ok/bare RSA key of 2056 bits', submission: () => ({ spki: keys.rsa2056!.spki, dnsNames: ['svc.example.com'] }), dnsNames: ['svc.example.com'] },
    { name: 'ok/A-label', submission: () => ({ dnsNames: ['XN--MNCHEN-3YA.example.com'] }), dnsNames: ['xn--mnchen-3ya.example.com'] },
    { name: 'ok/A-label TLD', submission: () => ({ dnsNames: ['xn--e1afmkfd.xn--p1ai'] }), dnsNames: ['xn--e1afmkfd.xn--p1ai'] },
    { name: 'ok/63-character label', submission: () => ({ dnsNames: [`${label(63)}.example.com`] }), dnsNames: [`${label(63)}.example.com`] },
    { name: 'ok/wildcard', submission: () => ({ dnsNames: ['*.svc.example.com'] }), dnsNames: ['*.svc.example.com'] },
    {
      name: 'ok/exactly MAX_SANS names, duplicates folded',
      submission: () => ({ dnsNames: [...Array.from({ length: MAX_SANS }, (_, i) => `h${i}.example.com`), 'H0.EXAMPLE.COM'] }),
      dnsNames: Array.from({ length: MAX_SANS }, (_, i) => `h${i}.example.com`),
    },
    { name: 'ok/IPv6 written long is canonicalized', submission: () => ({ ipAddresses: ['2001:0DB8:0:0:0:0:0:0001'] }), dnsNames: [], ipAddresses: ['2001:db8::1'] },
  ];
  it.each(ok)('$name', async ({ submission, dnsNames, ipAddresses }) => {
    const leaf = await submit(submission());
    expect(leaf.dnsNames).toEqual(dnsNames);
    if (ipAddresses) expect(leaf.ipAddresses).toEqual(ipAddresses);
    expect(signatures).toBe(1);
  });
});

describe('bad input: refused, nothing signed', () => {
  const cases: { name: string; submission: () => Submission; code: IssuanceErrorCode; keyCheckReason?: KeyCheckReason; message: RegExp }[] = [
    // Malformed CSRs.
    { name: 'fail/empty CSR', submission: () => ({ csr: '' }), code: 'csr_invalid', message: /not a PEM-encoded PKCS#10/ },
    { name: 'fail/garbage text', submission: () => ({ csr: 'hello, I am not a CSR' }), code: 'csr_invalid', message: /not a PEM-encoded PKCS#10/ },
    { name: 'fail/PEM armour without body', submission: () => ({ csr: derToPem(Buffer.alloc(0)) }), code: 'csr_invalid', message: /not a PEM-encoded PKCS#10/ },
    { name: 'fail/truncated DER', submission: () => ({ csr: derToPem(pemToDer(csrs.p256!).subarray(0, 60)) }), code: 'csr_invalid', message: /not a PEM-encoded PKCS#10 certificate request: / },
    { name: 'fail/trailing garbage after the DER', submission: () => ({ csr: derToPem(Buffer.concat([pemToDer(csrs.p256!), Buffer.from([0, 0])])) }), code: 'csr_invalid', message: /trailing data/ },
    { name: 'fail/wrong PEM label (CERTIFICATE)', submission: () => ({ csr: derToPem(pemToDer(csrs.p256!), 'CERTIFICATE') }), code: 'csr_invalid', message: /BEGIN CERTIFICATE REQUEST/ },
    { name: 'fail/wrong PEM label (PRIVATE KEY)', submission: () => ({ csr: derToPem(pemToDer(csrs.p256!), 'PRIVATE KEY') }), code: 'csr_invalid', message: /BEGIN CERTIFICATE REQUEST/ },
    { name: 'fail/base64 junk in the armour', submission: () => ({ csr: csrs.p256!.replace(/\n(.{10})/, '\n$1*!') }), code: 'csr_invalid', message: /not a PEM-encoded PKCS#10/ },
    { name: 'fail/bare base64 without armour', submission: () => ({ csr: pemToDer(csrs.p256!).toString('base64') }), code: 'csr_invalid', message: /BEGIN CERTIFICATE REQUEST/ },
    { name: 'fail/mismatched END label', submission: () => ({ csr: csrs.p256!.replace('END CERTIFICATE REQUEST', 'END CERTIFICATE') }), code: 'csr_invalid', message: /BEGIN CERTIFICATE REQUEST/ },
    { name: 'fail/signed with SHA-1 (RSA)', submission: () => ({ csr: csrs.rsaSha1! }), code: 'csr_invalid', message: /signed with SHA-1 \(sha1WithRSAEncryption\)/ },
    { name: 'fail/signed with SHA-1 (ECDSA)', submission: () => ({ csr: csrs.ecdsaSha1! }), code: 'csr_invalid', message: /signed with SHA-1 \(ecdsa-with-SHA1\)/ },
    { name: 'fail/signed with MD5', submission: () => ({ csr: csrs.rsaMd5! }), code: 'csr_invalid', message: /signed with MD5 \(md5WithRSAEncryption\)/ },
    { name: 'fail/signed with an unsupported algorithm (ECDSA SHA-224)', submission: () => ({ csr: csrs.ecdsaSha224! }), code: 'csr_invalid', message: /signed with ecdsa-with-SHA224, which is not supported/ },
    {
      name: 'fail/signature algorithm of another key type',
      submission: () => ({ csr: rebuildCsr(csrs.p256!, { signatureAlgorithm: sequence(oid('1.2.840.113549.1.1.11'), nullValue()) }) }),
      code: 'csr_invalid',
      message: /sha256WithRSAEncryption, which does not match its ECDSA-P256 key/,
    },
    { name: 'fail/tampered signature (ECDSA)', submission: () => ({ csr: flipLastByte(csrs.p256!) }), code: 'csr_invalid', message: /signature does not verify/ },
    { name: 'fail/tampered signature (RSA)', submission: () => ({ csr: flipLastByte(csrs.rsa2048!) }), code: 'csr_invalid', message: /signature does not verify/ },
    { name: 'fail/tampered SAN (www → wwx)', submission: () => ({ csr: replaceText(csrs.p256!, 'www.example.com', 'wwx.example.com') }), code: 'csr_invalid', message: /signature does not verify/ },
    { name: 'fail/tampered subject CN (svc → svd)', submission: () => ({ csr: replaceText(csrs.rsa2048!, 'svc.example.com', 'svd.example.com') }), code: 'csr_invalid', message: /signature does not verify/ },
    { name: 'fail/no public key', submission: () => ({ csr: rebuildCsr(csrs.p256!, { info: ([version, subject, , attributes]) => [version!, subject!, attributes!] }) }), code: 'csr_invalid', message: /subjectPKInfo/ },
    { name: 'fail/CSR version 2', submission: () => ({ csr: rebuildCsr(csrs.p256!, { info: ([, subject, spki, attributes]) => [smallInteger(1), subject!, spki!, attributes!] }) }), code: 'csr_invalid', message: /only version 1/ },

    // Weak or unsupported keys inside CSRs that openssl signed with them.
    { name: 'fail/CSR with an exponent-3 RSA key', submission: () => ({ csr: csrs.exponent3! }), code: 'key_rejected', keyCheckReason: 'rsa_exponent', message: /public exponent is 3/ },
    { name: 'fail/CSR with a modulus that has a small factor', submission: () => ({ csr: csrs.smallFactor! }), code: 'key_rejected', keyCheckReason: 'rsa_small_factor', message: /divisible by [35] / },
    { name: 'fail/CSR with a ROCA-fingerprinted modulus', submission: () => ({ csr: csrs.roca! }), code: 'key_rejected', keyCheckReason: 'rsa_roca', message: /ROCA fingerprint/ },
    { name: 'fail/CSR with close primes', submission: () => ({ csr: csrs.closePrimes! }), code: 'key_rejected', keyCheckReason: 'rsa_fermat', message: /Fermat's method/ },
    { name: 'fail/CSR with an Ed25519 key on tls-server', submission: () => ({ csr: csrs.ed25519!, commonName: null, profile: 'tls-server' }), code: 'key_rejected', keyCheckReason: 'algorithm_not_allowed', message: /Ed25519 keys are not allowed for the tls-server profile/ },
    { name: 'fail/CSR with a blocklisted key', submission: () => ({ csr: csrs.blocked! }), code: 'key_rejected', keyCheckReason: 'blocklisted', message: /blocklisted/ },
    // csr-key.ts refuses these before key-checks.ts sees them; the reason still names the key.
    { name: 'fail/CSR with an RSA-1024 key', submission: () => ({ csr: csrs.rsa1024! }), code: 'csr_invalid', message: /RSA key of 1024 bits/ },
    { name: 'fail/CSR with a 2049-bit RSA key', submission: () => ({ csr: csrs.rsa2049! }), code: 'csr_invalid', message: /RSA key of 2049 bits/ },
    { name: 'fail/CSR with a P-521 key', submission: () => ({ csr: csrs.p521! }), code: 'csr_invalid', message: /curve P-521/ },
    { name: 'fail/CSR with a secp256k1 key', submission: () => ({ csr: csrs.secp256k1! }), code: 'csr_invalid', message: /curve secp256k1/ },
    { name: 'fail/CSR with an Ed448 key', submission: () => ({ csr: csrs.ed448! }), code: 'csr_invalid', message: /Ed448/ },
    { name: 'fail/CSR with an off-curve point spliced in', submission: () => ({ csr: withSpki(csrs.p256!, offCurveP256()) }), code: 'csr_invalid', message: /invalid ECDSA-P256 public key/ },
    { name: 'fail/CSR with the point at infinity spliced in', submission: () => ({ csr: withSpki(csrs.p256!, ecSpki(OIDS.p256, Buffer.from([0]))) }), code: 'csr_invalid', message: /malformed P-256 public key point/ },

    // Weak or unsupported keys submitted bare (no CSR), so key-checks.ts decides.
    { name: 'fail/key RSA-1024', submission: () => ({ spki: keys.rsa1024!.spki, dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'rsa_size', message: /1024 bits; it must be 2048 to 4096 bits/ },
    { name: 'fail/key RSA 2049 bits', submission: () => ({ spki: keys.rsa2049!.spki, dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'rsa_size', message: /2049 bits, which is not a whole number of bytes/ },
    { name: 'fail/key RSA 4104 bits', submission: () => ({ spki: rsaSpki(oddNumberOfBits(4104), 65537n), dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'rsa_size', message: /4104 bits/ },
    { name: 'fail/key exponent 3', submission: () => ({ spki: keys.exponent3!.spki, dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'rsa_exponent', message: /exponent is 3/ },
    { name: 'fail/key with a small factor', submission: () => ({ spki: keys.smallFactor!.spki, dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'rsa_small_factor', message: /divisible by/ },
    { name: 'fail/key with the ROCA fingerprint', submission: () => ({ spki: keys.roca!.spki, dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'rsa_roca', message: /ROCA/ },
    { name: 'fail/key with close primes', submission: () => ({ spki: keys.closePrimes!.spki, dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'rsa_fermat', message: /Fermat/ },
    { name: 'fail/key on P-521', submission: () => ({ spki: keys.p521!.spki, dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'ec_curve', message: /P-521/ },
    { name: 'fail/key on secp256k1', submission: () => ({ spki: keys.secp256k1!.spki, dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'ec_curve', message: /secp256k1/ },
    { name: 'fail/key off the curve', submission: () => ({ spki: offCurveP256(), dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'ec_point', message: /not on the P-256 curve/ },
    { name: 'fail/key is the point at infinity', submission: () => ({ spki: ecSpki(OIDS.p256, Buffer.from([0])), dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'ec_point', message: /point at infinity/ },
    { name: 'fail/key Ed448', submission: () => ({ spki: keys.ed448!.spki, dnsNames: ['svc.example.com'], profile: 'tls-client' }), code: 'key_rejected', keyCheckReason: 'algorithm_not_allowed', message: /Ed448 keys are not supported/ },
    { name: 'fail/key X25519 (cannot sign at all)', submission: () => ({ spki: keys.x25519!.spki, dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'algorithm_not_allowed', message: /X25519 keys are not supported/ },
    { name: 'fail/key blocklisted', submission: () => ({ spki: keys.blocked!.spki, dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'blocklisted', message: /blocklisted/ },
    { name: 'fail/key with trailing bytes', submission: () => ({ spki: Buffer.concat([keys.p256!.spki, Buffer.from([0])]), dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'malformed', message: /unexpected bytes follow/ },
    { name: 'fail/key that is not DER at all', submission: () => ({ spki: Buffer.from('-----BEGIN PUBLIC KEY-----'), dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'malformed', message: /not a valid DER SubjectPublicKeyInfo/ },
    { name: 'fail/key without any bits', submission: () => ({ spki: sequence(sequence(oid(OIDS.ecPublicKey), oid(OIDS.p256)), bitString(Buffer.alloc(0))), dnsNames: ['svc.example.com'] }), code: 'key_rejected', keyCheckReason: 'ec_point', message: /not a 65-byte/ },

    // Hostile names in the request.
    { name: 'fail/homograph in raw Unicode (Cyrillic а)', submission: () => ({ dnsNames: ['\u0430pple.example.com'] }), code: 'name_invalid', message: /non-ASCII characters; write internationalized names as A-labels/ },
    { name: 'fail/homograph as an A-label (Latin mixed with Cyrillic)', submission: () => ({ dnsNames: ['xn--pple-43d.example.com'] }), code: 'name_invalid', message: /mixes Latin and Cyrillic letters/ },
    { name: 'fail/fake A-label xn--zz', submission: () => ({ dnsNames: ['xn--zz.example.com'] }), code: 'name_invalid', message: /"xn--zz" is not valid Punycode/ },
    { name: 'fail/A-label with invalid Punycode', submission: () => ({ dnsNames: ['xn--mnchen-3ya9.example.com'] }), code: 'name_invalid', message: /not valid Punycode/ },
    { name: 'fail/A-label decoding to a control character', submission: () => ({ dnsNames: ['xn--abc.example.com'] }), code: 'name_invalid', message: /control, invisible or unassigned character \(U\+0082\)/ },
    { name: 'fail/A-label hiding a full stop lookalike', submission: () => ({ dnsNames: ['xn--ab-r13a.example.com'] }), code: 'name_invalid', message: /full stop lookalike \(U\+3002\)/ },
    { name: 'fail/64-character label', submission: () => ({ dnsNames: [`${label(64)}.example.com`] }), code: 'name_invalid', message: /64 characters long; the limit is 63/ },
    { name: 'fail/254-character name', submission: () => ({ dnsNames: [`${label(63)}.${label(63)}.${label(63)}.${label(50)}.example.com`] }), code: 'name_invalid', message: /254 characters long; the limit is 253/ },
    { name: 'fail/wildcard in the middle', submission: () => ({ dnsNames: ['a.*.example.com'] }), code: 'name_invalid', message: /wildcard may only be the whole leftmost label/ },
    { name: 'fail/double wildcard', submission: () => ({ dnsNames: ['*.*.example.com'] }), code: 'name_invalid', message: /wildcard may only be the whole leftmost label/ },
    { name: 'fail/partial wildcard', submission: () => ({ dnsNames: ['w*.example.com'] }), code: 'name_invalid', message: /only letters, digits and inner hyphens/ },
    { name: 'fail/underscore label', submission: () => ({ dnsNames: ['_srv.example.com'] }), code: 'name_invalid', message: /"_srv" may contain only letters, digits and inner hyphens/ },
    { name: 'fail/NUL byte', submission: () => ({ dnsNames: ['svc.example.com\0.evil.net'] }), code: 'name_invalid', message: /control/ },
    { name: 'fail/CRLF injection', submission: () => ({ dnsNames: ['svc.example.com\r\nX-Injected: 1'] }), code: 'name_invalid', message: /control/ },
    { name: 'fail/empty label', submission: () => ({ dnsNames: ['svc..example.com'] }), code: 'name_invalid', message: /empty label/ },
    { name: 'fail/leading hyphen', submission: () => ({ dnsNames: ['-svc.example.com'] }), code: 'name_invalid', message: /"-svc" may contain only letters, digits and inner hyphens/ },
    { name: 'fail/trailing hyphen', submission: () => ({ dnsNames: ['svc-.example.com'] }), code: 'name_invalid', message: /"svc-" may contain only letters, digits and inner hyphens/ },
    { name: 'fail/trailing dot', submission: () => ({ dnsNames: ['svc.example.com.'] }), code: 'name_invalid', message: /trailing dot/ },
    { name: 'fail/IP as DNS: dotted decimal', submission: () => ({ dnsNames: ['127.0.0.1'] }), code: 'name_invalid', message: /IP address/ },
    { name: 'fail/IP as DNS: dotted hex', submission: () => ({ dnsNames: ['0x7f.0.0.1'] }), code: 'name_invalid', message: /IP address/ },
    { name: 'fail/IP as DNS: single hex number', submission: () => ({ dnsNames: ['0x7f000001'] }), code: 'name_invalid', message: /IP address/ },
    { name: 'fail/IP as DNS: dotted octal', submission: () => ({ dnsNames: ['0177.0.0.1'] }), code: 'name_invalid', message: /IP address/ },
    { name: 'fail/IP as DNS: single decimal number', submission: () => ({ dnsNames: ['2130706433'] }), code: 'name_invalid', message: /IP address/ },
    { name: 'fail/IP as DNS: shortened', submission: () => ({ dnsNames: ['127.1'] }), code: 'name_invalid', message: /IP address/ },
    { name: 'fail/IP as DNS: IPv6', submission: () => ({ dnsNames: ['[::1]'] }), code: 'name_invalid', message: /IP address/ },
    { name: 'fail/hostile commonName', submission: () => ({ commonName: 'svc.example.com\r\n', dnsNames: ['svc.example.com'] }), code: 'name_invalid', message: /commonName: .*control/s },
    { name: 'fail/IPv4 with a leading zero', submission: () => ({ ipAddresses: ['010.0.0.1'] }), code: 'name_invalid', message: /"010\.0\.0\.1" is not a valid IP address/ },
    { name: 'fail/IPv6 with a zone id', submission: () => ({ ipAddresses: ['fe80::1%eth0'] }), code: 'name_invalid', message: /"fe80::1%eth0" is not a valid IP address/ },
    { name: 'fail/more than MAX_SANS names', submission: () => ({ dnsNames: Array.from({ length: MAX_SANS + 1 }, (_, i) => `h${i}.example.com`) }), code: 'name_invalid', message: /at most 100 subject alternative names in all, got 101/ },

    // Hostile names inside signed CSRs.
    { name: 'fail/CSR whose CN is a fake A-label', submission: () => ({ csr: csrs.fakeALabel! }), code: 'name_invalid', message: /the csr's commonName: .*not valid Punycode/ },
    { name: 'fail/CSR with a wildcard in the middle', submission: () => ({ csr: csrs.wildcardInMiddle! }), code: 'name_invalid', message: /the csr: .*wildcard may only be the whole leftmost label/ },
    { name: 'fail/CSR whose CN has an underscore', submission: () => ({ csr: csrs.underscoreCn! }), code: 'name_invalid', message: /the csr's commonName: .*"_srv"/ },
    { name: 'fail/CSR with an IP written as a DNS name', submission: () => ({ csr: csrs.ipAsDnsSan! }), code: 'name_invalid', message: /the csr: "0x7f000001" .*IP address/ },
    { name: 'fail/CSR with more than MAX_SANS names', submission: () => ({ csr: csrs.tooManySans! }), code: 'name_invalid', message: /got 101/ },
  ];

  it.each(cases)('$name', async ({ submission, code, keyCheckReason, message }) => {
    const error = await submit(submission()).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error, 'the input was accepted').toBeInstanceOf(IssuanceError);
    const refusal = error as IssuanceError;
    expect({ code: refusal.code, keyCheckReason: refusal.details.keyCheckReason }).toEqual({ code, keyCheckReason });
    expect(refusal.message).toMatch(message);
    expect(signatures).toBe(0);
  });

  it('ok/the suite covers at least 30 distinct refusals', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });
});

describe('bad input: more than one CSR', () => {
  it('fail/two CSRs in one PEM field', async () => {
    const error = await submit({ csr: csrs.p256! + csrs.rsa2048! }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(IssuanceError);
    expect((error as IssuanceError).code).toBe('csr_invalid');
    expect((error as IssuanceError).message).toMatch(/more than one/);
  });
});

/** The P-256 key of `keys.p256` with one bit of Y flipped: almost surely off the curve (key-checks.test.ts proves it). */
function offCurveP256(): Buffer {
  const point = ecPointOf(keys.p256!.spki, 32);
  point[64]! ^= 0x01;
  return ecSpki(OIDS.p256, point);
}
