/**
 * Destination secrets (webhook HMAC secrets): the API seals them to the worker's sealing public key
 * (ca/sealed-box.ts) and cannot open them again; the worker, which holds the KEK, derives the
 * matching private key and opens them when it signs a delivery.
 *
 * Blobs written before this scheme (`v1.…`, AES-GCM under deriveSecretsKey(KEK)) still open, until
 * `certflow kek rotate` re-seals them as sealed boxes.
 */
import { hkdfSync } from 'node:crypto';
import { allKeks, assertKek, deriveSecretsKey, destinationSecretId, kekRing, openPrivateKey, type KeyEncryptionKeys } from './key-encryption.js';
import { isSealedBox, openSealedBox, sealedBoxRecipient, sealingKeyPairFromSeed, sealToPublicKey, type SealingPrivateKey, type SealingPublicKey } from './sealed-box.js';

/** Derived once per KEK buffer: every webhook delivery opens its secret with these. */
const derivedSealingKeys = new WeakMap<Buffer, SealingPrivateKey>();

/** The worker's X25519 sealing key pair, derived from a KEK with an HKDF label of its own. */
export function workerSealingKey(kek: Buffer): SealingPrivateKey {
  const known = derivedSealingKeys.get(kek);
  if (known) return known;
  const derived = deriveWorkerSealingKey(kek);
  derivedSealingKeys.set(kek, derived);
  return derived;
}

function deriveWorkerSealingKey(kek: Buffer): SealingPrivateKey {
  assertKek(kek);
  const seed = Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'certflow worker sealing key x25519 v1', 32));
  try {
    return sealingKeyPairFromSeed(seed);
  } finally {
    seed.fill(0);
  }
}

/** The sealing key pairs of every KEK held, current first. */
export function workerSealingKeys(keys: KeyEncryptionKeys): SealingPrivateKey[] {
  return allKeks(keys).map(workerSealingKey);
}

/** What a destination secret's sealed box is bound to: its purpose, certificate and position. */
export function destinationSecretContext(certificateId: string, destinationIndex: number): string {
  return `webhook-secret:${destinationSecretId(certificateId, destinationIndex)}`;
}

export function sealDestinationSecret(publicKey: SealingPublicKey, secret: string | Uint8Array, certificateId: string, destinationIndex: number): string {
  return sealToPublicKey(publicKey, typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret, destinationSecretContext(certificateId, destinationIndex));
}

export function openDestinationSecret(keys: KeyEncryptionKeys, sealed: string, certificateId: string, destinationIndex: number): Buffer {
  if (isSealedBox(sealed)) return openSealedBox(workerSealingKeys(keys), sealed, destinationSecretContext(certificateId, destinationIndex));
  const [current, ...previous] = allKeks(keys).map(deriveSecretsKey);
  return openPrivateKey(kekRing(current!, previous), sealed, destinationSecretId(certificateId, destinationIndex));
}

/** True when the secret is sealed to `publicKey` already (nothing for a rotation to do). */
export function destinationSecretSealedTo(sealed: string, publicKey: SealingPublicKey): boolean {
  return isSealedBox(sealed) && sealedBoxRecipient(sealed) === publicKey.id;
}

/** What a registered cluster's service-account token is sealed to: its purpose and the cluster's id. */
export function clusterTokenContext(clusterId: string): string {
  return `cluster-token:${clusterId}`;
}

/** The API seals a cluster's token as it registers it; only the worker (with the KEK) opens it. */
export function sealClusterToken(publicKey: SealingPublicKey, token: string, clusterId: string): string {
  return sealToPublicKey(publicKey, Buffer.from(token, 'utf8'), clusterTokenContext(clusterId));
}

export function openClusterToken(keys: KeyEncryptionKeys, sealed: string, clusterId: string): Buffer {
  return openSealedBox(workerSealingKeys(keys), sealed, clusterTokenContext(clusterId));
}
