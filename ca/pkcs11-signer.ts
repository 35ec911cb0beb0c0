/**
 * A Signer whose key lives in a PKCS#11 token (an HSM, or SoftHSM2 in tests): the private key never leaves the
 * token; we find it by label, read its public half to build the SubjectPublicKeyInfo, and call C_Sign.
 *
 * - ECDSA (P-256, P-384): the digest (SHA-256 / SHA-384) is computed here and signed with CKM_ECDSA, which every
 *   module supports (CKM_ECDSA_SHA256/384 are optional in PKCS#11); the raw r‖s is converted to the DER
 *   ECDSA-Sig-Value that X.509 carries.
 * - RSA (2048, 3072, 4096): CKM_SHA256_RSA_PKCS (PKCS#1 v1.5 with SHA-256), as der-writer.ts's sha256WithRSAEncryption.
 *
 * By default a key that is extractable or not sensitive is refused: a CA key in an HSM must not be exportable.
 * `generatePkcs11KeyPair` creates such a key pair inside the token (CKA_TOKEN, CKA_SENSITIVE, !CKA_EXTRACTABLE).
 *
 * The module is loaded and C_Initialize'd once per process and path (PKCS#11 state is per process), shared by
 * every signer on it and finalized when the last one closes. A session runs one operation at a time, so the
 * signs of one signer are serialized; open more signers (sessions) for parallel signing.
 * pkcs11js (a native addon) is loaded on first use, so importing this file costs nothing.
 */
import { createHash, createPublicKey, randomBytes, verify as nodeVerify } from 'node:crypto';
import type * as Pkcs11Js from 'pkcs11js';
import type { KeyAlgorithm } from '../core/types.js';
import { DerError, parseDer } from './der-reader.js';
import { TAG } from './der-tags.js';
import { bitString, nullValue, oid, sequence, unsignedInteger } from './der-writer.js';
import { SIGNING_HASH, type Signer } from './signer.js';

type Pkcs11Module = typeof Pkcs11Js;
type Handle = Buffer;

/** Key algorithms a PKCS#11 CA key may have (Ed25519 is not in PKCS#11 2.40). */
export type Pkcs11KeyAlgorithm = Exclude<KeyAlgorithm, 'Ed25519'>;

export interface Pkcs11TokenOptions {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  modulePath: string;
  /** Slot id (as `softhsm2-util --show-slots` prints it); or give `tokenLabel`. */
  slot?: number;
  /** Label of the token; or give `slot`. */
  tokenLabel?: string;
  /** User PIN. */
  pin: string;
}

export interface Pkcs11SignerOptions extends Pkcs11TokenOptions {
  /** CKA_LABEL of the private key (and of its public key object). */
  keyLabel: string;
  /** Accept a private key that is extractable or not sensitive (never for a CA key; default false). */
  allowExtractable?: boolean;
}

/** Protection attributes of the private key, as the token reports them. */
export interface Pkcs11KeyProtection {
  extractable: boolean;
  sensitive: boolean;
  neverExtractable: boolean;
  alwaysSensitive: boolean;
}

export interface Pkcs11Signer extends Signer {
  readonly keyProtection: Pkcs11KeyProtection;
  /** Closes the session (and finalizes the module when it was the last user). */
  close(): void;
}

// OIDs (RFC 5480, RFC 8017).
const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const CURVES = {
  'ECDSA-P256': { oid: '1.2.840.10045.3.1.7', fieldBytes: 32 },
  'ECDSA-P384': { oid: '1.3.132.0.34', fieldBytes: 48 },
} as const;
const RSA_BITS: Record<number, Pkcs11KeyAlgorithm> = { 2048: 'RSA-2048', 3072: 'RSA-3072', 4096: 'RSA-4096' };

// ---------------------------------------------------------------------------------------------------------
// Module loading and sessions

interface LoadedModule {
  pkcs11: Pkcs11Module;
  lib: Pkcs11Js.PKCS11;
  users: number;
  /** false when someone else in this process had already initialized the module: then we never finalize it. */
  ownsInitialization: boolean;
}

const loadedModules = new Map<string, LoadedModule>();
let pkcs11jsModule: Promise<Pkcs11Module> | undefined;

async function loadPkcs11js(): Promise<Pkcs11Module> {
  pkcs11jsModule ??= import('pkcs11js').then((imported) => (imported as { default?: Pkcs11Module }).default ?? (imported as Pkcs11Module));
  return pkcs11jsModule;
}

function acquireModule(pkcs11: Pkcs11Module, modulePath: string): LoadedModule {
  let loaded = loadedModules.get(modulePath);
  if (!loaded) {
    const lib = new pkcs11.PKCS11();
    lib.load(modulePath);
    let ownsInitialization = true;
    try {
      lib.C_Initialize({ flags: pkcs11.CKF_OS_LOCKING_OK });
    } catch (error) {
      if (pkcs11Code(error) !== pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw withContext(error, `C_Initialize of ${modulePath}`);
      ownsInitialization = false;
    }
    loaded = { pkcs11, lib, users: 0, ownsInitialization };
    loadedModules.set(modulePath, loaded);
  }
  loaded.users++;
  return loaded;
}

function releaseModule(modulePath: string): void {
  const loaded = loadedModules.get(modulePath);
  if (!loaded) return;
  if (--loaded.users > 0) return;
  loadedModules.delete(modulePath);
  try {
    if (loaded.ownsInitialization) loaded.lib.C_Finalize();
  } finally {
    loaded.lib.close();
  }
}

/** A logged-in read-write session on one token; the low-level handle for key generation and inspection. */
export interface Pkcs11Session {
  /** pkcs11js itself (its CK* constants). */
  readonly pkcs11: Pkcs11Module;
  readonly lib: Pkcs11Js.PKCS11;
  readonly session: Handle;
  /** The single object of this class with this label; throws when there is none or more than one. */
  findObject(objectClass: number, label: string): Handle;
  /** All objects of this class with this label. */
  findObjects(objectClass: number, label: string): Handle[];
  close(): void;
}

export async function openPkcs11Session(options: Pkcs11TokenOptions): Promise<Pkcs11Session> {
  const pkcs11 = await loadPkcs11js();
  const loaded = acquireModule(pkcs11, options.modulePath);
  const { lib } = loaded;
  let session: Handle | undefined;
  try {
    const slot = findSlot(pkcs11, lib, options);
    session = lib.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
    try {
      lib.C_Login(session, pkcs11.CKU_USER, options.pin);
    } catch (error) {
      // Login state is per token and application: another session of this process may have logged in already
      // (then the token does not check this PIN again — PKCS#11 has no per-session login).
      if (pkcs11Code(error) !== pkcs11.CKR_USER_ALREADY_LOGGED_IN) throw withContext(error, 'C_Login');
    }
  } catch (error) {
    if (session) lib.C_CloseSession(session);
    releaseModule(options.modulePath);
    throw error;
  }
  const openSession = session;
  let closed = false;
  const findObjects = (objectClass: number, label: string): Handle[] => {
    lib.C_FindObjectsInit(openSession, [
      { type: pkcs11.CKA_CLASS, value: objectClass },
      { type: pkcs11.CKA_LABEL, value: label },
    ]);
    try {
      return lib.C_FindObjects(openSession, 16);
    } finally {
      lib.C_FindObjectsFinal(openSession);
    }
  };
  return {
    pkcs11,
    lib,
    session: openSession,
    findObjects,
    findObject(objectClass, label) {
      const found = findObjects(objectClass, label);
      const what = objectClass === pkcs11.CKO_PRIVATE_KEY ? 'private key' : objectClass === pkcs11.CKO_PUBLIC_KEY ? 'public key' : 'object';
      if (found.length === 0) throw new Error(`PKCS#11: no ${what} labelled "${label}" on the token`);
      if (found.length > 1) throw new Error(`PKCS#11: ${found.length} ${what}s labelled "${label}" on the token; labels must be unique`);
      return found[0]!;
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        lib.C_CloseSession(openSession);
      } finally {
        releaseModule(options.modulePath);
      }
    },
  };
}

function findSlot(pkcs11: Pkcs11Module, lib: Pkcs11Js.PKCS11, options: Pkcs11TokenOptions): Handle {
  if ((options.slot === undefined) === (options.tokenLabel === undefined)) {
    throw new Error('PKCS#11: give exactly one of slot and tokenLabel');
  }
  const slots = lib.C_GetSlotList(true);
  if (options.slot !== undefined) {
    const slot = slots.find((s) => handleToBigInt(s) === BigInt(options.slot!));
    if (!slot) throw new Error(`PKCS#11: no token in slot ${options.slot} (slots with a token: ${slots.map(handleToBigInt).join(', ') || 'none'})`);
    return slot;
  }
  const labels: string[] = [];
  for (const slot of slots) {
    const info = lib.C_GetTokenInfo(slot);
    const label = info.label.replace(/[\s\0]+$/, '');
    // An uninitialized token (e.g. SoftHSM2's spare slot) has no usable label.
    if ((info.flags & pkcs11.CKF_TOKEN_INITIALIZED) === 0) continue;
    if (label === options.tokenLabel) return slot;
    labels.push(label);
  }
  throw new Error(`PKCS#11: no token labelled "${options.tokenLabel}" (tokens: ${labels.map((l) => `"${l}"`).join(', ') || 'none'})`);
}

// ---------------------------------------------------------------------------------------------------------
// The signer

export async function pkcs11Signer(options: Pkcs11SignerOptions): Promise<Pkcs11Signer> {
  const token = await openPkcs11Session(options);
  try {
    const { pkcs11, lib, session } = token;
    const privateKey = token.findObject(pkcs11.CKO_PRIVATE_KEY, options.keyLabel);
    const publicKey = token.findObject(pkcs11.CKO_PUBLIC_KEY, options.keyLabel);
    const { keyAlgorithm, publicKeySpki } = readPublicKey(token, publicKey);

    const keyProtection = readKeyProtection(token, privateKey);
    if (!options.allowExtractable && (keyProtection.extractable || !keyProtection.sensitive)) {
      throw new Error(
        `PKCS#11: private key "${options.keyLabel}" is ${keyProtection.extractable ? 'extractable' : 'not sensitive'}; ` +
          'a CA key must have CKA_EXTRACTABLE=false and CKA_SENSITIVE=true (pass allowExtractable to accept it)',
      );
    }

    const signRaw = rawSigner(pkcs11, lib, privateKey, keyAlgorithm, publicKeySpki);
    // One operation at a time per session: chain the signs.
    let queue: Promise<unknown> = Promise.resolve();
    const sign = (data: Uint8Array): Promise<Uint8Array> => {
      const result = queue.then(() => signRaw(session, data));
      queue = result.catch(() => {});
      return result;
    };

    await selfTest({ keyAlgorithm, publicKeySpki, sign }, options.keyLabel);

    return { keyAlgorithm, publicKeySpki, keyProtection, sign, close: () => token.close() };
  } catch (error) {
    token.close();
    throw error;
  }
}

/** Signs once with `signer` and verifies with its public key: the public key object must belong to the private key (labels are just labels). */
export async function selfTest(signer: Signer, keyLabel: string): Promise<void> {
  const probe = Buffer.from('certflow pkcs11 signer self-test');
  const signature = await signer.sign(probe);
  const spkiKey = createPublicKey({ key: Buffer.from(signer.publicKeySpki), format: 'der', type: 'spki' });
  const ok = nodeVerify(SIGNING_HASH[signer.keyAlgorithm], probe, signer.keyAlgorithm.startsWith('ECDSA') ? { key: spkiKey, dsaEncoding: 'der' } : spkiKey, signature);
  if (!ok) throw new Error(`PKCS#11: the public key labelled "${keyLabel}" does not verify signatures of the private key of that label`);
}

/** Signs with `privateKey` in whichever session of the application it is given (object handles are valid in all of them). */
export function rawSigner(
  pkcs11: Pkcs11Module,
  lib: Pkcs11Js.PKCS11,
  privateKey: Handle,
  keyAlgorithm: Pkcs11KeyAlgorithm,
  publicKeySpki: Uint8Array,
): (session: Handle, data: Uint8Array) => Promise<Uint8Array> {
  if (keyAlgorithm === 'ECDSA-P256' || keyAlgorithm === 'ECDSA-P384') {
    const { fieldBytes } = CURVES[keyAlgorithm];
    const hash = SIGNING_HASH[keyAlgorithm]!;
    return async (session, data) => {
      const digest = createHash(hash).update(data).digest();
      lib.C_SignInit(session, { mechanism: pkcs11.CKM_ECDSA }, privateKey);
      const raw = await lib.C_SignAsync(session, digest, Buffer.alloc(2 * fieldBytes));
      if (raw.length !== 2 * fieldBytes) throw new Error(`PKCS#11: CKM_ECDSA returned ${raw.length} bytes, want ${2 * fieldBytes}`);
      return ecdsaSigValue(raw);
    };
  }
  const modulusBytes = rsaModulusBytes(publicKeySpki);
  return async (session, data) => {
    lib.C_SignInit(session, { mechanism: pkcs11.CKM_SHA256_RSA_PKCS }, privateKey);
    return new Uint8Array(await lib.C_SignAsync(session, Buffer.from(data), Buffer.alloc(modulusBytes)));
  };
}

/** PKCS#11 ECDSA signatures are r‖s (each the field size); X.509 carries ECDSA-Sig-Value ::= SEQUENCE { r, s INTEGER }. */
export function ecdsaSigValue(raw: Uint8Array): Buffer {
  const half = raw.length / 2;
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}

function rsaModulusBytes(spki: Uint8Array): number {
  const jwk = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).export({ format: 'jwk' });
  return Buffer.from(jwk.n!, 'base64url').length;
}

export function readPublicKey(token: Pkcs11Session, publicKey: Handle): { keyAlgorithm: Pkcs11KeyAlgorithm; publicKeySpki: Uint8Array } {
  const { pkcs11, lib, session } = token;
  const [keyType] = lib.C_GetAttributeValue(session, publicKey, [{ type: pkcs11.CKA_KEY_TYPE }]);
  const type = ulong(keyType!.value);
  let keyAlgorithm: Pkcs11KeyAlgorithm;
  let spki: Buffer;
  if (type === pkcs11.CKK_EC) {
    const [params, point] = lib.C_GetAttributeValue(session, publicKey, [{ type: pkcs11.CKA_EC_PARAMS }, { type: pkcs11.CKA_EC_POINT }]);
    const curve = (Object.keys(CURVES) as (keyof typeof CURVES)[]).find((name) => oid(CURVES[name].oid).equals(params!.value));
    if (!curve) throw new Error(`PKCS#11: unsupported EC curve (CKA_EC_PARAMS ${params!.value.toString('hex')}); want P-256 or P-384`);
    keyAlgorithm = curve;
    const ecPoint = uncompressedPoint(point!.value, CURVES[curve].fieldBytes);
    spki = sequence(sequence(oid(OID_EC_PUBLIC_KEY), oid(CURVES[curve].oid)), bitString(ecPoint));
  } else if (type === pkcs11.CKK_RSA) {
    const [modulus, exponent] = lib.C_GetAttributeValue(session, publicKey, [{ type: pkcs11.CKA_MODULUS }, { type: pkcs11.CKA_PUBLIC_EXPONENT }]);
    const n = stripLeadingZeros(modulus!.value);
    const bits = n.length * 8 - Math.clz32(n[0]!) + 24; // clz32 counts over 32 bits, a byte has 8
    const algorithm = RSA_BITS[bits];
    if (!algorithm) throw new Error(`PKCS#11: unsupported RSA key size ${bits} bits; want 2048, 3072 or 4096`);
    keyAlgorithm = algorithm;
    spki = sequence(sequence(oid(OID_RSA_ENCRYPTION), nullValue()), bitString(sequence(unsignedInteger(n), unsignedInteger(exponent!.value))));
  } else {
    throw new Error(`PKCS#11: unsupported key type ${type}; want CKK_EC or CKK_RSA`);
  }
  // Parse it back: a malformed SPKI must fail here, not in a relying party.
  createPublicKey({ key: spki, format: 'der', type: 'spki' });
  return { keyAlgorithm, publicKeySpki: new Uint8Array(spki) };
}

/** CKA_EC_POINT is DER OCTET STRING { 04 ‖ X ‖ Y } (PKCS#11 2.40); a few modules return the raw point. */
function uncompressedPoint(value: Buffer, fieldBytes: number): Buffer {
  const pointLength = 2 * fieldBytes + 1;
  if (value.length === pointLength && value[0] === 0x04) return value;
  const point = octetStringContent(value);
  if (point?.length === pointLength && point[0] === 0x04) return point;
  throw new Error(`PKCS#11: CKA_EC_POINT is not an uncompressed point of ${pointLength} bytes (${value.toString('hex')})`);
}

function octetStringContent(value: Buffer): Buffer | null {
  try {
    const element = parseDer(value);
    return element.tag === TAG.octetString ? element.content : null;
  } catch (error) {
    if (error instanceof DerError) return null;
    throw error;
  }
}

export function readKeyProtection(token: Pkcs11Session, privateKey: Handle): Pkcs11KeyProtection {
  const { pkcs11, lib, session } = token;
  const attributes = lib.C_GetAttributeValue(session, privateKey, [
    { type: pkcs11.CKA_EXTRACTABLE },
    { type: pkcs11.CKA_SENSITIVE },
    { type: pkcs11.CKA_NEVER_EXTRACTABLE },
    { type: pkcs11.CKA_ALWAYS_SENSITIVE },
  ]);
  const flag = (i: number) => (attributes[i]?.value[0] ?? 0) !== 0;
  return { extractable: flag(0), sensitive: flag(1), neverExtractable: flag(2), alwaysSensitive: flag(3) };
}

// ---------------------------------------------------------------------------------------------------------
// Key generation inside the token

export interface GeneratePkcs11KeyPairOptions extends Pkcs11TokenOptions {
  keyLabel: string;
  keyAlgorithm: Pkcs11KeyAlgorithm;
  /** CKA_ID of both objects; default: a random 16 bytes. */
  id?: Uint8Array;
}

/**
 * Generates a key pair inside the token: the private key is a token object (CKA_TOKEN), private (login needed),
 * sensitive and not extractable, usable only to sign. Refuses a label that is already taken.
 * Returns the public key; open a signer on it with `pkcs11Signer({ …, keyLabel })`.
 */
export async function generatePkcs11KeyPair(options: GeneratePkcs11KeyPairOptions): Promise<{ keyAlgorithm: Pkcs11KeyAlgorithm; publicKeySpki: Uint8Array }> {
  const token = await openPkcs11Session(options);
  try {
    return await generateKeyPairInSession(token, options);
  } finally {
    token.close();
  }
}

/** generatePkcs11KeyPair in an open, logged-in read-write session. */
export async function generateKeyPairInSession(
  token: Pkcs11Session,
  options: Pick<GeneratePkcs11KeyPairOptions, 'keyLabel' | 'keyAlgorithm' | 'id'>,
): Promise<{ keyAlgorithm: Pkcs11KeyAlgorithm; publicKeySpki: Uint8Array }> {
  const { pkcs11, lib, session } = token;
  for (const objectClass of [pkcs11.CKO_PRIVATE_KEY, pkcs11.CKO_PUBLIC_KEY]) {
    if (token.findObjects(objectClass, options.keyLabel).length > 0) {
      throw new Error(`PKCS#11: a key labelled "${options.keyLabel}" already exists on the token`);
    }
  }
  const id = Buffer.from(options.id ?? randomBytes(16));
  const common = [
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_LABEL, value: options.keyLabel },
    { type: pkcs11.CKA_ID, value: id },
  ];
  const privateTemplate: Pkcs11Js.Template = [
    ...common,
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY },
    { type: pkcs11.CKA_PRIVATE, value: true },
    { type: pkcs11.CKA_SENSITIVE, value: true },
    { type: pkcs11.CKA_EXTRACTABLE, value: false },
    { type: pkcs11.CKA_SIGN, value: true },
    { type: pkcs11.CKA_DECRYPT, value: false },
    { type: pkcs11.CKA_UNWRAP, value: false },
    { type: pkcs11.CKA_DERIVE, value: false },
  ];
  const publicTemplate: Pkcs11Js.Template = [
    ...common,
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY },
    { type: pkcs11.CKA_PRIVATE, value: false },
    { type: pkcs11.CKA_VERIFY, value: true },
    { type: pkcs11.CKA_ENCRYPT, value: false },
    { type: pkcs11.CKA_WRAP, value: false },
  ];
  let mechanism: number;
  if (options.keyAlgorithm === 'ECDSA-P256' || options.keyAlgorithm === 'ECDSA-P384') {
    mechanism = pkcs11.CKM_EC_KEY_PAIR_GEN;
    publicTemplate.push({ type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_EC }, { type: pkcs11.CKA_EC_PARAMS, value: Buffer.from(oid(CURVES[options.keyAlgorithm].oid)) });
    privateTemplate.push({ type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_EC });
  } else {
    mechanism = pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN;
    const bits = Number(options.keyAlgorithm.slice('RSA-'.length));
    publicTemplate.push(
      { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_RSA },
      { type: pkcs11.CKA_MODULUS_BITS, value: bits },
      { type: pkcs11.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
    );
    privateTemplate.push({ type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_RSA });
  }
  const keys = await lib.C_GenerateKeyPairAsync(session, { mechanism }, publicTemplate, privateTemplate);
  return readPublicKey(token, keys.publicKey);
}

// ---------------------------------------------------------------------------------------------------------
// helpers

/** The PKCS#11 return value (CKR_*) of a pkcs11js error, or undefined. */
export function pkcs11Code(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function withContext(error: unknown, what: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`PKCS#11 ${what} failed: ${message}`, { cause: error });
}

/** A CK_ULONG attribute value (native byte order: little-endian on the x64/arm64 platforms Node runs on). */
function ulong(value: Buffer): number {
  return value.length === 8 ? Number(value.readBigUInt64LE()) : value.readUInt32LE();
}

function handleToBigInt(handle: Handle): bigint {
  return handle.length === 8 ? handle.readBigUInt64LE() : BigInt(handle.readUInt32LE());
}

function stripLeadingZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}
