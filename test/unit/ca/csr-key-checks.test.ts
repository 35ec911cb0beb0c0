/**
 * The key checks as the issuance pipeline runs them for a CSR: readCsr imports the key once to
 * verify the signature and the checks skip a second import (importedByCaller), so each refusal is
 * checked here end to end, with CSRs properly signed by the weak keys themselves.
 */
import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkRequest, IssuanceError } from '../../../ca/issuance.js';
import { bitString, nullValue, oid, sequence, set, smallInteger, tlv } from '../../../ca/der-writer.js';
import type { TeamPolicy } from '../../../core/policy.js';
import { KEY_ALGORITHMS, PROFILES } from '../../../core/types.js';
import { commonNameAttribute, csrPem } from '../../support/csr-builder.js';
import { closePrimesKey, ecPointOf, ecSpki, nodeKeyPair, OIDS, rocaKey, smallFactorKey, spkiOf } from './weak-keys.js';

const POLICY: TeamPolicy = {
  allowedDomains: ['example.com'],
  allowWildcards: false,
  allowIpSans: false,
  maxValiditySeconds: 90 * 86_400,
  keyAlgorithms: [...KEY_ALGORITHMS],
  profiles: [...PROFILES],
};

const RSA_SHA256 = sequence(oid('1.2.840.113549.1.1.11'), nullValue());
const ECDSA_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

/** A CSR for svc.example.com carrying `spki`, signed with `privateKey` (which need not match `spki`). */
function csrFor(spki: Buffer, privateKey: KeyObject, algorithm: Buffer): Buffer {
  const [type, value] = commonNameAttribute('svc.example.com');
  const subject = sequence(set(sequence(oid(type as string), value)));
  const info = sequence(smallInteger(0), subject, spki, tlv(0xa0));
  return sequence(info, algorithm, bitString(sign('sha256', info, privateKey)));
}

const rsaCsr = (key: { spki: Buffer; privateKeyPem: string }): string => csrPem(csrFor(key.spki, createPrivateKey(key.privateKeyPem), RSA_SHA256));

async function refusalOf(csr: string): Promise<IssuanceError> {
  try {
    await checkRequest({ key: { csrPem: csr }, profile: 'tls-server', validitySeconds: 30 * 86_400, teamPolicy: POLICY });
  } catch (error) {
    if (error instanceof IssuanceError) return error;
    throw error;
  }
  throw new Error('the request was accepted');
}

let csrs: Record<string, string>;

beforeAll(() => {
  const p256 = nodeKeyPair('ec', { namedCurve: 'P-256' });
  const rsa = nodeKeyPair('rsa', { modulusLength: 2048 });
  const exponent3 = nodeKeyPair('rsa', { modulusLength: 2048, publicExponent: 3 });
  const secp256k1 = nodeKeyPair('ec', { namedCurve: 'secp256k1' });
  const good = csrFor(spkiOf(p256.publicKey), p256.privateKey, ECDSA_SHA256);
  const badSignature = Buffer.from(good);
  badSignature[badSignature.length - 5]! ^= 0x01;
  const point = ecPointOf(spkiOf(p256.publicKey), 32);
  const offCurve = Buffer.from(point);
  offCurve[64]! ^= 0x01;
  csrs = {
    p256: csrPem(good),
    rsa: csrPem(csrFor(spkiOf(rsa.publicKey), rsa.privateKey, RSA_SHA256)),
    exponent3: csrPem(csrFor(spkiOf(exponent3.publicKey), exponent3.privateKey, RSA_SHA256)),
    smallFactor: rsaCsr(smallFactorKey()),
    roca: rsaCsr(rocaKey()),
    fermat: rsaCsr(closePrimesKey(20)),
    secp256k1: csrPem(csrFor(spkiOf(secp256k1.publicKey), secp256k1.privateKey, ECDSA_SHA256)),
    // Signed by the real key over an SPKI whose point is off the curve: no one holds its private key.
    offCurve: csrPem(csrFor(ecSpki(OIDS.p256, offCurve), p256.privateKey, ECDSA_SHA256)),
    badSignature: csrPem(badSignature),
  };
}, 120_000);

describe('key checks on a CSR, as issuance runs them (one key import)', () => {
  it.each([
    { name: 'ok/P-256', csr: () => csrs.p256!, want: 'ECDSA-P256' },
    { name: 'ok/RSA-2048', csr: () => csrs.rsa!, want: 'RSA-2048' },
  ])('$name', async ({ csr, want }) => {
    await expect(checkRequest({ key: { csrPem: csr() }, profile: 'tls-server', validitySeconds: 30 * 86_400, teamPolicy: POLICY })).resolves.toMatchObject({
      keyAlgorithm: want,
    });
  });

  const refused: { name: string; csr: () => string; code: IssuanceError['code']; reason?: string; message: RegExp }[] = [
    { name: 'fail/weak RSA: exponent 3', csr: () => csrs.exponent3!, code: 'key_rejected', reason: 'rsa_exponent', message: /public exponent is 3/ },
    { name: 'fail/weak RSA: a small prime factor', csr: () => csrs.smallFactor!, code: 'key_rejected', reason: 'rsa_small_factor', message: /divisible by [35] / },
    { name: 'fail/ROCA fingerprint', csr: () => csrs.roca!, code: 'key_rejected', reason: 'rsa_roca', message: /ROCA fingerprint/ },
    { name: 'fail/Fermat-close primes', csr: () => csrs.fermat!, code: 'key_rejected', reason: 'rsa_fermat', message: /Fermat's method factors it/ },
    { name: 'fail/bad curve (secp256k1)', csr: () => csrs.secp256k1!, code: 'csr_invalid', message: /unsupported type: an EC key on curve secp256k1/ },
    { name: 'fail/invalid point (off the curve)', csr: () => csrs.offCurve!, code: 'csr_invalid', message: /invalid ECDSA-P256 public key/ },
    { name: 'fail/bad CSR signature', csr: () => csrs.badSignature!, code: 'csr_invalid', message: /signature does not verify/ },
  ];
  it.each(refused)('$name', async ({ csr, code, reason, message }) => {
    const error = await refusalOf(csr());
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    if (reason) expect(error.details.keyCheckReason).toBe(reason);
  });
});
