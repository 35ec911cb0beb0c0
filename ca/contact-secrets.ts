/**
 * Signing secrets of a team's webhook contacts, sealed like destination secrets
 * (ca/destination-secrets.ts): the API seals them to the worker's sealing public key and cannot
 * open them again; the worker opens them to sign a notification. Bound to the contact's id.
 */
import type { KeyEncryptionKeys } from './key-encryption.js';
import { isSealedBox, openSealedBox, sealedBoxRecipient, sealToPublicKey, type SealingPublicKey } from './sealed-box.js';
import { workerSealingKeys } from './destination-secrets.js';

export function contactSecretContext(contactId: string): string {
  return `contact-secret:${contactId}`;
}

export function sealContactSecret(publicKey: SealingPublicKey, secret: string, contactId: string): string {
  return sealToPublicKey(publicKey, Buffer.from(secret, 'utf8'), contactSecretContext(contactId));
}

export function openContactSecret(keys: KeyEncryptionKeys, sealed: string, contactId: string): Buffer {
  return openSealedBox(workerSealingKeys(keys), sealed, contactSecretContext(contactId));
}

/** True when the secret is sealed to `publicKey` already (nothing for a KEK rotation to do). */
export function contactSecretSealedTo(sealed: string, publicKey: SealingPublicKey): boolean {
  return isSealedBox(sealed) && sealedBoxRecipient(sealed) === publicKey.id;
}

/** Opens with any KEK held and seals again to `publicKey` (the current KEK's sealing key). */
export function resealContactSecret(keys: KeyEncryptionKeys, publicKey: SealingPublicKey, sealed: string, contactId: string): string {
  const secret = openContactSecret(keys, sealed, contactId);
  try {
    return sealToPublicKey(publicKey, secret, contactSecretContext(contactId));
  } finally {
    secret.fill(0);
  }
}
