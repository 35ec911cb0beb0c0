/**
 * Signing secrets of a team's webhook contacts, sealed like destination secrets
 * (ca/destination-secrets.ts): the API seals them to the worker's sealing public key and cannot
 * open them again; the worker opens them to sign a notification. Bound to the contact's id.
 */
import type { KeyEncryptionKeys } from './key-encryption.js';
import { openSealedBox, sealToPublicKey, type SealingPublicKey } from './sealed-box.js';
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
