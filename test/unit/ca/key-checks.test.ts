import { createHash, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KeyAlgorithm, Profile } from '../../../core/types.js';
import { nullValue, oid, sequence, bitString, smallInteger } from '../../../ca/der-writer.js';
import {
  checkSubjectPublicKey,
  inMemoryBlocklist,
  KeyCheckError,
  RSA_CHECKED_KEYS_CAPACITY,
  rsaCheckedKeys,
  spkiSha256Hex,
  type KeyBlocklist,
  type KeyCheckReason,
} from '../../../ca/key-checks.js';
import { ACCEPTED_CURVES, ecPointProblem } from '../../../ca/key-checks/ec.js';
import { generatedSubgroup, hasRocaFingerprint, ROCA_PRIMES } from '../../../ca/key-checks/roca.js';
import { fermatFactor, isqrt, rsaSizeProblem, smallPrimeFactor } from '../../../ca/key-checks/rsa.js';
import {
  bigIntToBytes,
  closePrimesKey,
  ecPointOf,
  ecSpki,
  nextPrime,
  nodeKeyPair,
  oddNumberOfBits,
  OIDS,
  P256_P,
  primeWithTopBitsSet,
  rocaKey,
  rsaKeyOfBits,
  rsaSpki,
  smallFactorKey,
  spkiOf,
  type RsaKey,
} from './weak-keys.js';

/** Every key the tables use, generated once for this file. */
interface Fixtures {
  p256: Buffer;
  p384: Buffer;
  rsa2048: Buffer;
  rsa2048Modulus: bigint;
  rsa2056: RsaKey;
  ed25519: Buffer;
  exponent3: Buffer;
  rsa1024: Buffer;
  rsa2049: RsaKey;
  smallFactor: RsaKey;
  rocaKey: RsaKey;
  closePrimes: RsaKey;
  closePrimesSomeSteps: RsaKey;
  farPrimes: RsaKey;
  secp256k1: Buffer;
  p521: Buffer;
  ed448: Buffer;
  x25519: Buffer;
  rsaPss: Buffer;
  explicitCurve: Buffer;
  /** A prime just above 2^2034: times a factor below 10,000 it makes a 2048-bit modulus. */
  prime2034: bigint;
}
let fx: Fixtures;

beforeAll(() => {
  const rsa2048 = nodeKeyPair('rsa', { modulusLength: 2048 }).publicKey;
  fx = {
    p256: spkiOf(nodeKeyPair('ec', { namedCurve: 'P-256' }).publicKey),
    p384: spkiOf(nodeKeyPair('ec', { namedCurve: 'P-384' }).publicKey),
    rsa2048: spkiOf(rsa2048),
    rsa2048Modulus: BigInt(`0x${Buffer.from(rsa2048.export({ format: 'jwk' }).n!, 'base64url').toString('hex')}`),
    rsa2056: rsaKeyOfBits(2056),
    ed25519: spkiOf(nodeKeyPair('ed25519').publicKey),
    exponent3: spkiOf(nodeKeyPair('rsa', { modulusLength: 2048, publicExponent: 3 }).publicKey),
    rsa1024: spkiOf(nodeKeyPair('rsa', { modulusLength: 1024 }).publicKey),
    rsa2049: rsaKeyOfBits(2049),
    smallFactor: smallFactorKey(),
    rocaKey: rocaKey(),
    closePrimes: closePrimesKey(20),
    closePrimesSomeSteps: closePrimesKey(516),
    farPrimes: closePrimesKey(519),
    secp256k1: spkiOf(nodeKeyPair('ec', { namedCurve: 'secp256k1' }).publicKey),
    p521: spkiOf(nodeKeyPair('ec', { namedCurve: 'P-521' }).publicKey),
    ed448: spkiOf(nodeKeyPair('ed448').publicKey),
    x25519: spkiOf(nodeKeyPair('x25519').publicKey),
    rsaPss: spkiOf(nodeKeyPair('rsa-pss', { modulusLength: 2048 }).publicKey),
    explicitCurve: explicitCurveSpki(),
    prime2034: nextPrime(1n << 2034n),
  };
}, 60_000);

/** A P-256 key exported with explicit curve parameters (a SEQUENCE where the curve OID belongs). */
function explicitCurveSpki(): Buffer {
  return generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    paramEncoding: 'explicit',
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  }).publicKey;
}

/** A copy of `der` with one byte changed. */
function withByte(der: Buffer, index: number, change: (byte: number) => number): Buffer {
  const copy = Buffer.from(der);
  const at = index < 0 ? copy.length + index : index;
  copy[at] = change(copy[at]!);
  return copy;
}

/** The P-256 point of fx.p256 with its parity byte made compressed (0x02/0x03 || X). */
function compressedP256(): Buffer {
  const point = ecPointOf(fx.p256, 32);
  return ecSpki(OIDS.p256, Buffer.concat([Buffer.from([0x02 | (point[64]! & 1)]), point.subarray(1, 33)]));
}

async function keyCheckErrorOf(spki: Uint8Array, profile: Profile, blocklist?: KeyBlocklist): Promise<KeyCheckError> {
  try {
    await checkSubjectPublicKey(spki, { profile, ...(blocklist ? { blocklist } : {}) });
  } catch (error) {
    if (error instanceof KeyCheckError) return error;
    throw error;
  }
  throw new Error('the key was accepted');
}

describe('checkSubjectPublicKey', () => {
  const ok: { name: string; spki: () => Uint8Array; profile: Profile; want: KeyAlgorithm }[] = [
    { name: 'ok/ECDSA P-256', spki: () => fx.p256, profile: 'tls-server', want: 'ECDSA-P256' },
    { name: 'ok/ECDSA P-384', spki: () => fx.p384, profile: 'mtls', want: 'ECDSA-P384' },
    { name: 'ok/RSA-2048', spki: () => fx.rsa2048, profile: 'tls-server', want: 'RSA-2048' },
    { name: 'ok/RSA 2056 bits (whole bytes) counts as RSA-2048', spki: () => fx.rsa2056.spki, profile: 'tls-server', want: 'RSA-2048' },
    { name: 'ok/primes 2^519 apart are beyond 100 Fermat steps', spki: () => fx.farPrimes.spki, profile: 'tls-server', want: 'RSA-2048' },
    { name: 'ok/Ed25519 on tls-client', spki: () => fx.ed25519, profile: 'tls-client', want: 'Ed25519' },
  ];
  it.each(ok)('$name', async ({ spki, profile, want }) => {
    const checked = await checkSubjectPublicKey(spki(), { profile });
    expect(checked.keyAlgorithm).toBe(want);
    // The key the checks imported (through a JWK for all but P-384) is the key of these exact bytes.
    expect(checked.publicKey.export({ type: 'spki', format: 'der' })).toEqual(Buffer.from(spki()));
  });

  const fail: { name: string; spki: () => Uint8Array; profile?: Profile; reason: KeyCheckReason; message: RegExp }[] = [
    // RSA
    { name: 'fail/RSA exponent 3', spki: () => fx.exponent3, reason: 'rsa_exponent', message: /public exponent is 3; only 65537 is accepted/ },
    { name: 'fail/RSA exponent 65539', spki: () => rsaSpki(fx.rsa2048Modulus, 65539n), reason: 'rsa_exponent', message: /exponent is 65539/ },
    { name: 'fail/RSA exponent 1', spki: () => rsaSpki(fx.rsa2048Modulus, 1n), reason: 'rsa_exponent', message: /exponent is 1;/ },
    { name: 'fail/RSA-1024', spki: () => fx.rsa1024, reason: 'rsa_size', message: /1024 bits; it must be 2048 to 4096 bits/ },
    { name: 'fail/RSA 2049 bits', spki: () => fx.rsa2049.spki, reason: 'rsa_size', message: /2049 bits, which is not a whole number of bytes/ },
    { name: 'fail/RSA 2040 bits', spki: () => rsaSpki(oddNumberOfBits(2040), 65537n), reason: 'rsa_size', message: /2040 bits; it must be 2048 to 4096/ },
    { name: 'fail/RSA 4104 bits', spki: () => rsaSpki(oddNumberOfBits(4104), 65537n), reason: 'rsa_size', message: /4104 bits; it must be 2048 to 4096/ },
    { name: 'fail/RSA modulus with a small factor', spki: () => fx.smallFactor.spki, reason: 'rsa_small_factor', message: /divisible by [35] \(/ },
    { name: 'fail/RSA modulus that is even', spki: () => rsaSpki(fx.rsa2048Modulus + 1n, 65537n), reason: 'rsa_small_factor', message: /divisible by 2 / },
    { name: 'fail/RSA modulus with factor 9973 (largest prime below the bound)', spki: () => rsaSpki(9973n * fx.prime2034, 65537n), reason: 'rsa_small_factor', message: /divisible by 9973 / },
    { name: 'fail/RSA modulus with the ROCA fingerprint', spki: () => fx.rocaKey.spki, reason: 'rsa_roca', message: /ROCA fingerprint \(CVE-2017-15361/ },
    { name: 'fail/RSA modulus with close primes', spki: () => fx.closePrimes.spki, reason: 'rsa_fermat', message: /Fermat's method factors it in 1 step/ },
    { name: 'fail/RSA primes 2^516 apart (tens of Fermat steps)', spki: () => fx.closePrimesSomeSteps.spki, reason: 'rsa_fermat', message: /factors it in [2-9]\d? step/ },
    // EC
    { name: 'fail/secp256k1', spki: () => fx.secp256k1, reason: 'ec_curve', message: /on secp256k1; only P-256 and P-384 are accepted/ },
    { name: 'fail/P-521', spki: () => fx.p521, reason: 'ec_curve', message: /on P-521; only P-256 and P-384/ },
    { name: 'fail/unknown curve OID', spki: () => ecSpki('1.3.132.0.99', ecPointOf(fx.p256, 32)), reason: 'ec_curve', message: /curve with OID 1\.3\.132\.0\.99/ },
    { name: 'fail/explicit curve parameters', spki: () => fx.explicitCurve, reason: 'ec_curve', message: /does not name its curve/ },
    { name: 'fail/EC point off the curve', spki: () => withByte(fx.p256, -1, (byte) => byte ^ 0x01), reason: 'ec_point', message: /not on the P-256 curve/ },
    { name: 'fail/P-384 point off the curve', spki: () => withByte(fx.p384, -1, (byte) => byte ^ 0x01), reason: 'ec_point', message: /not on the P-384 curve/ },
    { name: 'fail/EC point at infinity', spki: () => ecSpki(OIDS.p256, Buffer.from([0x00])), reason: 'ec_point', message: /point at infinity/ },
    { name: 'fail/EC point (0, 0)', spki: () => ecSpki(OIDS.p256, Buffer.concat([Buffer.from([0x04]), Buffer.alloc(64)])), reason: 'ec_point', message: /not on the P-256 curve/ },
    {
      name: 'fail/EC coordinate not reduced mod p',
      spki: () => ecSpki(OIDS.p256, Buffer.concat([Buffer.from([0x04]), bigIntToBytes(P256_P, 32), Buffer.alloc(32)])),
      reason: 'ec_point',
      message: /coordinate outside the P-256 field/,
    },
    { name: 'fail/EC point compressed', spki: compressedP256, reason: 'ec_point', message: /compressed form; send it uncompressed/ },
    { name: 'fail/EC point truncated', spki: () => ecSpki(OIDS.p256, ecPointOf(fx.p256, 32).subarray(0, 64)), reason: 'ec_point', message: /not a 65-byte uncompressed P-256 point/ },
    { name: 'fail/P-384 point on a P-256 key', spki: () => ecSpki(OIDS.p256, ecPointOf(fx.p384, 48)), reason: 'ec_point', message: /not a 65-byte uncompressed P-256 point/ },
    // algorithms and profiles
    { name: 'fail/Ed25519 on tls-server', spki: () => fx.ed25519, profile: 'tls-server', reason: 'algorithm_not_allowed', message: /Ed25519 keys are not allowed for the tls-server profile; use one of ECDSA-P256/ },
    { name: 'fail/Ed25519 on mtls', spki: () => fx.ed25519, profile: 'mtls', reason: 'algorithm_not_allowed', message: /not allowed for the mtls profile/ },
    { name: 'fail/Ed448', spki: () => fx.ed448, profile: 'tls-client', reason: 'algorithm_not_allowed', message: /Ed448 keys are not supported; use one of .*Ed25519/ },
    { name: 'fail/X25519', spki: () => fx.x25519, reason: 'algorithm_not_allowed', message: /X25519 keys are not supported/ },
    { name: 'fail/RSASSA-PSS key', spki: () => fx.rsaPss, reason: 'algorithm_not_allowed', message: /RSASSA-PSS-restricted RSA keys are not supported/ },
    { name: 'fail/unknown algorithm', spki: () => sequence(sequence(oid('1.2.3.4')), bitString(Buffer.alloc(8))), reason: 'algorithm_not_allowed', message: /algorithm 1\.2\.3\.4 keys are not supported/ },
    // malformed encodings
    { name: 'fail/empty input', spki: () => Buffer.alloc(0), reason: 'malformed', message: /ends in the middle of an element/ },
    { name: 'fail/truncated', spki: () => fx.p256.subarray(0, 40), reason: 'malformed', message: /claims \d+ bytes but only \d+ remain/ },
    { name: 'fail/trailing bytes', spki: () => Buffer.concat([fx.p256, Buffer.from([0])]), reason: 'malformed', message: /1 unexpected bytes follow SubjectPublicKeyInfo/ },
    { name: 'fail/not a SEQUENCE', spki: () => withByte(fx.p256, 0, () => 0x31), reason: 'malformed', message: /has tag 0x31, expected 0x30/ },
    { name: 'fail/non-minimal length', spki: () => Buffer.concat([Buffer.from([0x30, 0x81, fx.p256.length - 2]), fx.p256.subarray(2)]), reason: 'malformed', message: /not minimally encoded/ },
    { name: 'fail/indefinite length', spki: () => Buffer.concat([Buffer.from([0x30, 0x80]), fx.p256.subarray(2), Buffer.from([0, 0])]), reason: 'malformed', message: /indefinite length/ },
    { name: 'fail/BIT STRING with unused bits', spki: () => sequence(sequence(oid(OIDS.ecPublicKey), oid(OIDS.p256)), bitString(ecPointOf(fx.p256, 32), 1)), reason: 'malformed', message: /1 unused bits/ },
    { name: 'fail/RSA without NULL parameters', spki: () => sequence(sequence(oid(OIDS.rsaEncryption)), bitString(sequence(smallInteger(3), smallInteger(3)))), reason: 'malformed', message: /parameters must be NULL/ },
    { name: 'fail/RSAPublicKey with three integers', spki: () => sequence(sequence(oid(OIDS.rsaEncryption), nullValue()), bitString(sequence(smallInteger(3), smallInteger(3), smallInteger(3)))), reason: 'malformed', message: /exactly two INTEGERs/ },
    { name: 'fail/RSA modulus negative', spki: () => sequence(sequence(oid(OIDS.rsaEncryption), nullValue()), bitString(sequence(Buffer.from([0x02, 0x01, 0xff]), smallInteger(65537)))), reason: 'malformed', message: /modulus is negative/ },
    { name: 'fail/RSA modulus with a superfluous zero byte', spki: () => sequence(sequence(oid(OIDS.rsaEncryption), nullValue()), bitString(sequence(Buffer.from([0x02, 0x02, 0x00, 0x05]), smallInteger(65537)))), reason: 'malformed', message: /superfluous leading zero/ },
    { name: 'fail/OID with a non-minimal arc', spki: () => sequence(sequence(Buffer.from([0x06, 0x03, 0x2b, 0x80, 0x70])), bitString(Buffer.alloc(32))), reason: 'malformed', message: /not minimally encoded/ },
    { name: 'fail/Ed25519 key of 31 bytes', spki: () => sequence(sequence(oid('1.3.101.112')), bitString(Buffer.alloc(31, 1))), profile: 'tls-client', reason: 'malformed', message: /32 bytes, not 31/ },
    { name: 'fail/Ed25519 with NULL parameters', spki: () => sequence(sequence(oid('1.3.101.112'), nullValue()), bitString(fx.ed25519.subarray(-32))), profile: 'tls-client', reason: 'malformed', message: /no algorithm parameters/ },
  ];
  it.each(fail)('$name', async ({ spki, profile, reason, message }) => {
    const error = await keyCheckErrorOf(spki(), profile ?? 'tls-server');
    expect(error.reason).toBe(reason);
    expect(error.message).toMatch(message);
  });

  it('ok/every refusal says what to do', async () => {
    const messages = await Promise.all([fx.exponent3, fx.rsa1024, fx.secp256k1, fx.smallFactor.spki].map(async (spki) => (await keyCheckErrorOf(spki, 'tls-server')).message));
    for (const message of messages) expect(message).toMatch(/; (generate|use|send)/);
  });
});

describe('blocklist', () => {
  const cases: { name: string; blocklist: () => KeyBlocklist; blocked: boolean }[] = [
    { name: 'fail/key on the blocklist', blocklist: () => inMemoryBlocklist([spkiSha256Hex(fx.p256)]), blocked: true },
    { name: 'fail/key on the blocklist, hash in upper case', blocklist: () => inMemoryBlocklist([spkiSha256Hex(fx.p256).toUpperCase()]), blocked: true },
    { name: 'ok/other keys on the blocklist', blocklist: () => inMemoryBlocklist([spkiSha256Hex(fx.p384)]), blocked: false },
    { name: 'ok/empty blocklist', blocklist: () => inMemoryBlocklist([]), blocked: false },
  ];
  it.each(cases)('$name', async ({ blocklist, blocked }) => {
    const checking = checkSubjectPublicKey(fx.p256, { profile: 'tls-server', blocklist: blocklist() });
    if (!blocked) {
      await expect(checking).resolves.toMatchObject({ keyAlgorithm: 'ECDSA-P256' });
      return;
    }
    const error = await checking.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeyCheckError);
    expect((error as KeyCheckError).reason).toBe('blocklisted');
    expect((error as KeyCheckError).message).toMatch(/blocklisted .*generate a new key pair/);
  });

  it('ok/the hash is SHA-256 over the SPKI DER, in lower-case hex', () => {
    expect(spkiSha256Hex(fx.p256)).toBe(createHash('sha256').update(fx.p256).digest('hex'));
  });

  it('ok/a weak key is refused for its weakness before the blocklist is asked', async () => {
    let asked = 0;
    const counting: KeyBlocklist = { isBlocked: async () => ++asked > 0 };
    expect((await keyCheckErrorOf(fx.exponent3, 'tls-server', counting)).reason).toBe('rsa_exponent');
    expect(asked).toBe(0);
  });

  it('fail/inMemoryBlocklist refuses something that is not a SHA-256 hex digest', () => {
    expect(() => inMemoryBlocklist(['abc'])).toThrow(/"abc" is not a hex SHA-256 digest/);
  });
});

describe('rsaSizeProblem', () => {
  const cases: { name: string; bits: number; problem: RegExp | null }[] = [
    { name: 'fail/2047', bits: 2047, problem: /2047 bits; it must be 2048 to 4096/ },
    { name: 'ok/2048', bits: 2048, problem: null },
    { name: 'fail/2049', bits: 2049, problem: /not a whole number of bytes/ },
    { name: 'fail/2052', bits: 2052, problem: /not a whole number of bytes/ },
    { name: 'ok/2056', bits: 2056, problem: null },
    { name: 'ok/3072', bits: 3072, problem: null },
    { name: 'ok/4088', bits: 4088, problem: null },
    { name: 'ok/4096', bits: 4096, problem: null },
    { name: 'fail/4097', bits: 4097, problem: /4097 bits; it must be 2048 to 4096/ },
    { name: 'fail/8192', bits: 8192, problem: /8192 bits/ },
  ];
  it.each(cases)('$name', ({ bits, problem }) => {
    const found = rsaSizeProblem(bits);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });
});

describe('smallPrimeFactor', () => {
  const cases: { name: string; modulus: () => bigint; want: number | null }[] = [
    { name: 'fail/3 × prime', modulus: () => 3n * fx.prime2034, want: 3 },
    { name: 'fail/9973 × prime (largest prime below 10,000)', modulus: () => 9973n * fx.prime2034, want: 9973 },
    { name: 'fail/smallest factor is reported', modulus: () => 7919n * 13n * fx.prime2034, want: 13 },
    { name: 'ok/10007 × prime (first prime above the bound)', modulus: () => 10007n * fx.prime2034, want: null },
    { name: 'ok/a real RSA modulus', modulus: () => fx.rsa2048Modulus, want: null },
  ];
  it.each(cases)('$name', ({ modulus, want }) => {
    expect(smallPrimeFactor(modulus())).toBe(want);
  });
});

describe('fermatFactor', () => {
  it('ok/recovers the primes of a close-primes key', () => {
    const found = fermatFactor(fx.closePrimes.modulus);
    expect(found).not.toBeNull();
    expect(found!.p * found!.q).toBe(fx.closePrimes.modulus);
    expect(found!.p).toBeGreaterThan(1n << 1000n);
  });

  const cases: { name: string; modulus: () => bigint; found: boolean }[] = [
    { name: 'fail/primes 2^20 apart', modulus: () => fx.closePrimes.modulus, found: true },
    { name: 'fail/primes 2^516 apart', modulus: () => fx.closePrimesSomeSteps.modulus, found: true },
    { name: 'ok/primes 2^519 apart', modulus: () => fx.farPrimes.modulus, found: false },
    { name: 'ok/a random RSA modulus', modulus: () => fx.rsa2048Modulus, found: false },
    { name: 'fail/a perfect square of a prime', modulus: () => primeWithTopBitsSet(1024) ** 2n, found: true },
  ];
  it.each(cases)('$name', ({ modulus, found }) => {
    expect(fermatFactor(modulus()) !== null).toBe(found);
  });

  /** The method as written down, without the square filters fermatFactor skips most roots with. */
  function plainFermat(modulus: bigint, rounds: number): { p: bigint; q: bigint; step: number } | null {
    let a = isqrt(modulus);
    if (a * a < modulus) a += 1n;
    for (let step = 1; step <= rounds; step++, a++) {
      const difference = a * a - modulus;
      const b = isqrt(difference);
      if (b * b === difference && a - b > 1n) return { p: a - b, q: a + b, step };
    }
    return null;
  }

  it('ok/finds what the plain method finds, at the same step (odd factors 2^509 to 2^518 apart)', () => {
    for (let gapBits = 509; gapBits <= 518; gapBits++) {
      for (let trial = 0; trial < 5; trial++) {
        const p = primeWithTopBitsSet(1024);
        const q = p + (1n << BigInt(gapBits)) + 2n * BigInt(trial);
        expect(fermatFactor(p * q), `gap 2^${gapBits}, trial ${trial}`).toEqual(plainFermat(p * q, 100));
      }
    }
  });

  const roots: { name: string; value: bigint; want: bigint }[] = [
    { name: 'ok/isqrt 0', value: 0n, want: 0n },
    { name: 'ok/isqrt 1', value: 1n, want: 1n },
    { name: 'ok/isqrt 15', value: 15n, want: 3n },
    { name: 'ok/isqrt 16', value: 16n, want: 4n },
    { name: 'ok/isqrt (2^1024 + 1)^2 - 1', value: ((1n << 1024n) + 1n) ** 2n - 1n, want: 1n << 1024n },
    { name: 'ok/isqrt 2^53 + 1 (beyond a double)', value: (1n << 53n) + 1n, want: 94_906_265n },
    { name: 'ok/isqrt (2^1024 - 1)^2', value: ((1n << 1024n) - 1n) ** 2n, want: (1n << 1024n) - 1n },
    { name: 'ok/isqrt (2^1024 - 1)^2 - 1', value: ((1n << 1024n) - 1n) ** 2n - 1n, want: (1n << 1024n) - 2n },
    { name: 'ok/isqrt (3·2^700 + 12345)^2 + 2·(3·2^700 + 12345)', value: (3n * (1n << 700n) + 12345n) ** 2n + 2n * (3n * (1n << 700n) + 12345n), want: 3n * (1n << 700n) + 12345n },
  ];
  it.each(roots)('$name', ({ value, want }) => {
    expect(isqrt(value)).toBe(want);
  });
});

describe('ROCA fingerprint', () => {
  it('ok/the subgroups match the published detector (its bitmasks for 3, 5, 7, 11, 13 and 167)', () => {
    // Published in crocs-muni/roca as the "prints" of its modular test; bit r set ⇔ r ∈ ⟨65537 mod p⟩.
    const published = new Map<number, bigint>([
      [3, 6n],
      [5, 30n],
      [7, 126n],
      [11, 1026n],
      [13, 5658n],
      [167, 187072209578355573530071658587684226515959365500926n],
    ]);
    for (const [prime, mask] of published) {
      const derived = [...generatedSubgroup(65537, prime)].reduce((bits, residue) => bits | (1n << BigInt(residue)), 0n);
      expect(derived, `prime ${prime}`).toBe(mask);
    }
    expect(ROCA_PRIMES).toHaveLength(38);
  });

  const cases: { name: string; modulus: () => bigint; fingerprint: boolean }[] = [
    { name: 'fail/ROCA-form modulus (primes k·M + 65537^a mod M)', modulus: () => fx.rocaKey.modulus, fingerprint: true },
    { name: 'fail/any product of powers of 65537 modulo the primorial', modulus: () => 65537n ** 5n, fingerprint: true },
    { name: 'ok/a random RSA modulus', modulus: () => fx.rsa2048Modulus, fingerprint: false },
    { name: 'ok/close-primes modulus', modulus: () => fx.closePrimes.modulus, fingerprint: false },
    // 65537 ≡ 10 (mod 11), so ⟨65537⟩ mod 11 is {1, 10}, and doubling a member gives 2 or 9: outside it.
    { name: 'ok/ROCA-form modulus × 2 leaves the subgroup mod 11', modulus: () => fx.rocaKey.modulus * 2n, fingerprint: false },
  ];
  it.each(cases)('$name', ({ modulus, fingerprint }) => {
    expect(hasRocaFingerprint(modulus())).toBe(fingerprint);
  });
});

describe('ecPointProblem', () => {
  const p256 = ACCEPTED_CURVES[OIDS.p256]!;
  const cases: { name: string; point: () => Uint8Array; problem: RegExp | null }[] = [
    { name: 'ok/a generated P-256 point', point: () => ecPointOf(fx.p256, 32), problem: null },
    { name: 'fail/point at infinity', point: () => Buffer.from([0]), problem: /point at infinity/ },
    { name: 'fail/hybrid form', point: () => withByte(ecPointOf(fx.p256, 32), 0, () => 0x06), problem: /hybrid form/ },
    { name: 'fail/empty', point: () => Buffer.alloc(0), problem: /not a 65-byte/ },
    { name: 'fail/y flipped', point: () => withByte(ecPointOf(fx.p256, 32), 64, (byte) => byte ^ 0x80), problem: /not on the P-256 curve/ },
    { name: 'fail/y = 2^256 − 1 (outside the field)', point: () => Buffer.concat([ecPointOf(fx.p256, 32).subarray(0, 33), Buffer.alloc(32, 0xff)]), problem: /outside the P-256 field/ },
  ];
  it.each(cases)('$name', ({ point, problem }) => {
    const found = ecPointProblem(p256, point());
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });

  it('ok/the negated point (x, p − y) is on the curve too', () => {
    const point = ecPointOf(fx.p256, 32);
    const y = BigInt(`0x${point.subarray(33).toString('hex')}`);
    const negated = Buffer.concat([point.subarray(0, 33), bigIntToBytes(P256_P - y, 32)]);
    expect(ecPointProblem(p256, negated)).toBeNull();
  });
});

describe('RSA verdict cache', () => {
  it('ok/a key that passed the RSA checks is remembered by the SHA-256 of its SPKI, within a bounded set', async () => {
    rsaCheckedKeys.clear();
    await checkSubjectPublicKey(fx.rsa2048, { profile: 'tls-server' });
    expect(rsaCheckedKeys.has(spkiSha256Hex(fx.rsa2048))).toBe(true);
    expect(rsaCheckedKeys.size).toBe(1);
    expect(rsaCheckedKeys.capacity).toBe(RSA_CHECKED_KEYS_CAPACITY);
    expect(RSA_CHECKED_KEYS_CAPACITY).toBeLessThanOrEqual(100_000);
  });

  it('ok/a refused key is not remembered: it is refused again, for the same reason', async () => {
    rsaCheckedKeys.clear();
    for (let attempt = 0; attempt < 2; attempt++) expect((await keyCheckErrorOf(fx.smallFactor.spki, 'tls-server')).reason).toBe('rsa_small_factor');
    expect(rsaCheckedKeys.size).toBe(0);
  });

  it("fail/a good key's verdict is not reused for a different key, even one sharing most of its modulus", async () => {
    rsaCheckedKeys.clear();
    await checkSubjectPublicKey(fx.rsa2048, { profile: 'tls-server' });
    // The same modulus moved down to a multiple of 3: same size, same leading bytes, another key.
    const divisibleBy3 = fx.rsa2048Modulus - (fx.rsa2048Modulus % 3n);
    expect((await keyCheckErrorOf(rsaSpki(divisibleBy3, 65537n), 'tls-server')).reason).toBe('rsa_small_factor');
    expect((await keyCheckErrorOf(fx.rocaKey.spki, 'tls-server')).reason).toBe('rsa_roca');
    expect((await keyCheckErrorOf(fx.closePrimes.spki, 'tls-server')).reason).toBe('rsa_fermat');
    // The same modulus with another exponent is another SPKI: its exponent is checked as ever.
    expect((await keyCheckErrorOf(rsaSpki(fx.rsa2048Modulus, 3n), 'tls-server')).reason).toBe('rsa_exponent');
  });

  it('fail/a blocklisted key is refused on every request, though its RSA verdict is cached', async () => {
    rsaCheckedKeys.clear();
    await checkSubjectPublicKey(fx.rsa2048, { profile: 'tls-server' });
    const blocklist = inMemoryBlocklist([spkiSha256Hex(fx.rsa2048)]);
    for (let attempt = 0; attempt < 3; attempt++) expect((await keyCheckErrorOf(fx.rsa2048, 'tls-server', blocklist)).reason).toBe('blocklisted');
  });

  it('ok/the verdict is looked up by the exact SPKI: a planted entry for a weak key is what lets it pass (and nothing else does)', async () => {
    rsaCheckedKeys.clear();
    rsaCheckedKeys.add(spkiSha256Hex(fx.rsa2048));
    expect((await keyCheckErrorOf(fx.smallFactor.spki, 'tls-server')).reason).toBe('rsa_small_factor');
    rsaCheckedKeys.add(spkiSha256Hex(fx.smallFactor.spki));
    await expect(checkSubjectPublicKey(fx.smallFactor.spki, { profile: 'tls-server' })).resolves.toMatchObject({ keyAlgorithm: 'RSA-2048' });
    rsaCheckedKeys.clear();
    expect((await keyCheckErrorOf(fx.smallFactor.spki, 'tls-server')).reason).toBe('rsa_small_factor');
  });
});
