/**
 * Checks a subject public key before anything is signed for it: the encoding, the algorithm and
 * its parameters, known weaknesses (small or factorable RSA moduli, ROCA, Fermat, invalid EC
 * points), the profile's allowed algorithms and a pluggable blocklist. Every refusal is a
 * KeyCheckError with a short `reason` code and a message saying what is wrong and what to do.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { LruSet } from '../core/lru-set.js';
import type { KeyAlgorithm, Profile } from '../core/types.js';
import { DerError } from './der-reader.js';
import { ACCEPTED_CURVES, type Curve, ecPointProblem, REFUSED_CURVE_NAMES } from './key-checks/ec.js';
import { hasRocaFingerprint } from './key-checks/roca.js';
import { bitLength, fermatFactor, RSA_EXPONENT, rsaSizeProblem, SMALL_FACTOR_BOUND, smallPrimeFactor } from './key-checks/rsa.js';
import { KEY_ALGORITHM_OIDS, parseRsaPublicKey, parseSpki, type RsaPublicKey, type SubjectPublicKeyInfo, UNSUPPORTED_ALGORITHM_NAMES } from './key-checks/spki.js';
import { PROFILE_KEY_ALGORITHMS } from './profiles.js';
import { importPublicKey, type PublicKeyParts } from './public-key-import.js';

/** Keys that must never be certified again, e.g. those revoked for keyCompromise. */
export interface KeyBlocklist {
  /** `spkiSha256Hex`: lower-case hex SHA-256 of the DER SubjectPublicKeyInfo (see spkiSha256Hex). */
  isBlocked(spkiSha256Hex: string): Promise<boolean>;
}

export type KeyCheckReason =
  | 'malformed'
  | 'algorithm_not_allowed'
  | 'rsa_size'
  | 'rsa_exponent'
  | 'rsa_small_factor'
  | 'rsa_roca'
  | 'rsa_fermat'
  | 'ec_curve'
  | 'ec_point'
  | 'blocklisted';

export class KeyCheckError extends Error {
  constructor(
    readonly reason: KeyCheckReason,
    message: string,
  ) {
    super(message);
    this.name = 'KeyCheckError';
  }
}

export interface KeyCheckOptions {
  profile: Profile;
  blocklist?: KeyBlocklist;
  /**
   * The KeyObject node:crypto imported from exactly these SPKI bytes (readCsr, to verify the CSR
   * they came in). Absent, the checks import the key themselves, once: an import costs more than a
   * P-256 signature, so no request pays for two.
   */
  publicKey?: KeyObject;
}

export interface CheckedKey {
  keyAlgorithm: KeyAlgorithm;
  /** The key as node:crypto holds it: the caller's, or imported here. */
  publicKey: KeyObject;
}

/**
 * SHA-256 (hex) of the SubjectPublicKeyInfos whose RSA modulus passed the small-factor, ROCA and
 * Fermat checks (~70 µs for RSA-2048): a renewal of the same key, or a bulk reissue, does not pay
 * for them again. Only passes are kept, keyed by the hash of the whole SPKI, so a verdict covers
 * exactly the key it was reached for; bounded, so a stream of new keys cannot grow it; the blocklist
 * is asked on every request regardless.
 */
export const RSA_CHECKED_KEYS_CAPACITY = 10_000;
export const rsaCheckedKeys = new LruSet(RSA_CHECKED_KEYS_CAPACITY);

const NEW_KEY = 'generate a new key pair with a standard library (e.g. `openssl genpkey`)';

export function spkiSha256Hex(spki: Uint8Array): string {
  return createHash('sha256').update(spki).digest('hex');
}

export function inMemoryBlocklist(hashes: Iterable<string>): KeyBlocklist {
  const blocked = new Set<string>();
  for (const hash of hashes) {
    if (!/^[0-9a-fA-F]{64}$/.test(hash)) throw new TypeError(`inMemoryBlocklist: "${hash}" is not a hex SHA-256 digest`);
    blocked.add(hash.toLowerCase());
  }
  return { isBlocked: async (spkiSha256HexValue) => blocked.has(spkiSha256HexValue.toLowerCase()) };
}

/**
 * Refuses a SubjectPublicKeyInfo (DER) that Certflow must not certify for `profile`; otherwise
 * returns its key algorithm. RSA moduli of any whole-byte size from 2048 to 4096 bits are accepted
 * and reported as the largest named size not above them (e.g. 2056 bits → RSA-2048).
 */
export async function checkSubjectPublicKey(spki: Uint8Array, options: KeyCheckOptions): Promise<CheckedKey> {
  const info = parse(spki);
  const key = identify(info, options.profile);
  const allowed = PROFILE_KEY_ALGORITHMS[options.profile];
  if (!allowed.includes(key.keyAlgorithm)) {
    throw new KeyCheckError(
      'algorithm_not_allowed',
      `${key.keyAlgorithm} keys are not allowed for the ${options.profile} profile; use one of ${allowed.join(', ')}`,
    );
  }
  // Hashed once, for the RSA verdicts and the blocklist; EC and Ed25519 keys need it only for the blocklist.
  const hash = key.rsa || options.blocklist ? spkiSha256Hex(spki) : '';
  checkMaterial(key, hash);
  const publicKey = options.publicKey ?? importChecked(spki, key.parts);
  if (options.blocklist && (await options.blocklist.isBlocked(hash))) {
    throw new KeyCheckError('blocklisted', `this public key is blocklisted (for example, its private key was reported compromised); ${NEW_KEY}`);
  }
  return { keyAlgorithm: key.keyAlgorithm, publicKey };
}

function parse(spki: Uint8Array): SubjectPublicKeyInfo {
  try {
    return parseSpki(spki);
  } catch (error) {
    if (error instanceof DerError) throw malformed(error);
    throw error;
  }
}

function malformed(error: DerError): KeyCheckError {
  return new KeyCheckError('malformed', `the public key is not a valid DER SubjectPublicKeyInfo: ${error.message}; send the key exactly as a standard library encodes it`);
}

interface IdentifiedKey {
  keyAlgorithm: KeyAlgorithm;
  /** What a JWK would carry; the EC point is still to be checked (checkMaterial). */
  parts: PublicKeyParts;
  /** Set for an RSA key, whose numbers checkMaterial checks. */
  rsa: RsaPublicKey | null;
  /** Set for an EC key, whose point checkMaterial checks. */
  ec: { curve: Curve; point: Buffer } | null;
}

/** The checks that need the key material, run once the algorithm is known to be allowed. */
function checkMaterial(key: IdentifiedKey, spkiHash: string): void {
  if (key.rsa) {
    checkRsaExponent(key.rsa.exponent);
    if (rsaCheckedKeys.has(spkiHash)) return;
    checkRsaModulus(key.rsa.modulus);
    rsaCheckedKeys.add(spkiHash);
  } else if (key.ec) {
    const problem = ecPointProblem(key.ec.curve, key.ec.point);
    if (problem) throw new KeyCheckError('ec_point', `${problem}; send the public key of a freshly generated ${key.ec.curve.name} key pair`);
  }
}

function identify(info: SubjectPublicKeyInfo, profile: Profile): IdentifiedKey {
  switch (info.algorithm) {
    case KEY_ALGORITHM_OIDS.rsaEncryption:
      return identifyRsa(info);
    case KEY_ALGORITHM_OIDS.ecPublicKey:
      return identifyEc(info);
    case KEY_ALGORITHM_OIDS.ed25519:
      return identifyEd25519(info);
    default: {
      const name = UNSUPPORTED_ALGORITHM_NAMES[info.algorithm] ?? `algorithm ${info.algorithm}`;
      throw new KeyCheckError('algorithm_not_allowed', `${name} keys are not supported; use one of ${PROFILE_KEY_ALGORITHMS[profile].join(', ')}`);
    }
  }
}

function identifyRsa(info: SubjectPublicKeyInfo): IdentifiedKey {
  if (info.parameters.kind !== 'null') throw malformed(new DerError('rsaEncryption parameters must be NULL (RFC 3279 §2.3.1)'));
  let rsa: RsaPublicKey;
  try {
    rsa = parseRsaPublicKey(info.publicKey);
  } catch (error) {
    if (error instanceof DerError) throw malformed(error);
    throw error;
  }
  const bits = bitLength(rsa.modulus);
  const sizeProblem = rsaSizeProblem(bits);
  if (sizeProblem) throw new KeyCheckError('rsa_size', `${sizeProblem}; generate a 2048-, 3072- or 4096-bit RSA key, or use ECDSA P-256`);
  return {
    keyAlgorithm: bits >= 4096 ? 'RSA-4096' : bits >= 3072 ? 'RSA-3072' : 'RSA-2048',
    parts: { kind: 'RSA', modulus: rsa.modulusBytes, exponent: rsa.exponentBytes },
    rsa,
    ec: null,
  };
}

function checkRsaExponent(exponent: bigint): void {
  if (exponent !== RSA_EXPONENT) {
    throw new KeyCheckError('rsa_exponent', `the RSA public exponent is ${exponent}; only ${RSA_EXPONENT} is accepted; ${NEW_KEY} and its default exponent`);
  }
}

function checkRsaModulus(modulus: bigint): void {
  const factor = smallPrimeFactor(modulus);
  if (factor !== null) {
    throw new KeyCheckError(
      'rsa_small_factor',
      `the RSA modulus is divisible by ${factor} (trial division by the primes below ${SMALL_FACTOR_BOUND}), so the key is trivially broken; ${NEW_KEY}`,
    );
  }
  if (hasRocaFingerprint(modulus)) {
    throw new KeyCheckError(
      'rsa_roca',
      'the RSA modulus carries the ROCA fingerprint (CVE-2017-15361, Infineon RSALib): its private key can be computed from the public key; generate a new key on unaffected hardware or after a firmware update',
    );
  }
  const fermat = fermatFactor(modulus);
  if (fermat) {
    throw new KeyCheckError(
      'rsa_fermat',
      `the RSA modulus's two primes are so close together that Fermat's method factors it in ${fermat.step} step(s); ${NEW_KEY}`,
    );
  }
}

function identifyEc(info: SubjectPublicKeyInfo): IdentifiedKey {
  const parameters = info.parameters;
  if (parameters.kind !== 'oid') {
    throw new KeyCheckError('ec_curve', 'the EC key does not name its curve (explicit or missing parameters); use a named curve: P-256 or P-384');
  }
  const curve = ACCEPTED_CURVES[parameters.oid];
  if (!curve) {
    const name = REFUSED_CURVE_NAMES[parameters.oid] ?? `the curve with OID ${parameters.oid}`;
    throw new KeyCheckError('ec_curve', `the EC key is on ${name}; only P-256 and P-384 are accepted; generate a P-256 key`);
  }
  const point = asBuffer(info.publicKey);
  return { keyAlgorithm: curve.keyAlgorithm, parts: { kind: 'EC', curve: curve.name, point }, rsa: null, ec: { curve, point } };
}

function identifyEd25519(info: SubjectPublicKeyInfo): IdentifiedKey {
  if (info.parameters.kind !== 'absent') throw malformed(new DerError('Ed25519 keys must have no algorithm parameters (RFC 8410 §3)'));
  if (info.publicKey.length !== 32) throw malformed(new DerError(`an Ed25519 public key is 32 bytes, not ${info.publicKey.length}`));
  return { keyAlgorithm: 'Ed25519', parts: { kind: 'Ed25519', key: asBuffer(info.publicKey) }, rsa: null, ec: null };
}

const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

/** Last line of defence, and the one import of a bare key: the crypto library that will use the key must accept it too. */
function importChecked(spki: Uint8Array, parts: PublicKeyParts): KeyObject {
  try {
    return importPublicKey(spki, parts);
  } catch (error) {
    throw malformed(new DerError(`the crypto library refuses it (${(error as Error).message})`));
  }
}
