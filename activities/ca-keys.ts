/**
 * Where CA keys live, and the one place that creates and opens them.
 *
 * - `software` (default): the key is generated in this process and stored in the issuer row, sealed under the KEK
 *   with the row id as associated data; opened, it is a non-extractable node:crypto KeyObject.
 * - `pkcs11`: the key pair is generated inside the configured token (CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not
 *   CKA_EXTRACTABLE) under the label `certflow-ca-<issuer id>`; the row keeps only that label (`key_ref`).
 *
 * New keys go where the worker is configured to put them (`hsm` given: the token). Existing keys are opened where
 * their row says they live, so a deployment switched to PKCS#11 keeps signing with its older software issuers.
 */
import { createPrivateKey } from 'node:crypto';
import type { KeyAlgorithm } from '../core/types.js';
import { openPrivateKey, sealPrivateKey, type KeyEncryptionKeys } from '../ca/key-encryption.js';
import { exportPrivateKeyPkcs8, generateKeyPair } from '../ca/keys.js';
import type { Pkcs11KeyAlgorithm } from '../ca/pkcs11-signer.js';
import type { Pkcs11Token } from '../ca/pkcs11-token.js';
import { softwareSigner, type Signer } from '../ca/signer.js';
import type { IssuerKeyBackend } from '../db/schema.js';

/** The issuer row's columns that say where its key is (exactly one of sealed key and token reference). */
export type CaKeyLocation =
  | { keyBackend: 'software'; sealedPrivateKey: string; keyRef: null }
  | { keyBackend: 'pkcs11'; sealedPrivateKey: null; keyRef: string };

export interface NewCaKey {
  signer: Signer;
  location: CaKeyLocation;
}

export interface CaKeySources {
  kek: KeyEncryptionKeys;
  /** The configured PKCS#11 token; absent: CA keys are software keys sealed under the KEK. */
  hsm?: Pkcs11Token | undefined;
}

/** Label of an issuer's key pair in the token. */
export function pkcs11KeyLabel(issuerId: string): string {
  return `certflow-ca-${issuerId}`;
}

/** Creates the key of the issuer `issuerId`: in the token when one is configured, else a sealed software key. */
export async function createCaKey(sources: CaKeySources, issuerId: string, keyAlgorithm: KeyAlgorithm): Promise<NewCaKey> {
  if (sources.hsm) {
    if (keyAlgorithm === 'Ed25519') throw new Error('PKCS#11 CA keys are ECDSA (P-256, P-384) or RSA; Ed25519 is not supported');
    const keyRef = pkcs11KeyLabel(issuerId);
    const signer = await sources.hsm.createKey(keyRef, keyAlgorithm satisfies Pkcs11KeyAlgorithm);
    return { signer, location: { keyBackend: 'pkcs11', sealedPrivateKey: null, keyRef } };
  }
  const keys = await generateKeyPair(keyAlgorithm);
  const pkcs8 = await exportPrivateKeyPkcs8(keys.privateKey);
  try {
    // The row id is the sealed key's associated data: a key cannot be moved to another row.
    const sealedPrivateKey = sealPrivateKey(sources.kek, pkcs8, issuerId);
    const signer = softwareSigner(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), keyAlgorithm);
    return { signer, location: { keyBackend: 'software', sealedPrivateKey, keyRef: null } };
  } finally {
    pkcs8.fill(0);
  }
}

/** The columns of an issuer row this module reads. */
export interface StoredCaKey {
  id: string;
  keyAlgorithm: KeyAlgorithm;
  keyBackend: IssuerKeyBackend;
  keyRef: string | null;
  sealedPrivateKey: string | null;
}

/** Opens the key of a stored issuer where its row says it lives. */
export async function openCaKey(sources: CaKeySources, issuer: StoredCaKey): Promise<Signer> {
  if (issuer.keyBackend === 'pkcs11') {
    if (!issuer.keyRef) throw new Error(`issuer ${issuer.id} has no PKCS#11 key reference`);
    if (!sources.hsm) throw new Error(`the key of issuer ${issuer.id} is in a PKCS#11 token ("${issuer.keyRef}"), but this worker has no token configured (CERTFLOW_SIGNER=pkcs11)`);
    const signer = await sources.hsm.openKey(issuer.keyRef);
    if (signer.keyAlgorithm !== issuer.keyAlgorithm) throw new Error(`the PKCS#11 key of issuer ${issuer.id} is ${signer.keyAlgorithm}, the issuer says ${issuer.keyAlgorithm}`);
    return signer;
  }
  if (!issuer.sealedPrivateKey) throw new Error(`issuer ${issuer.id} has no sealed key`);
  const pkcs8 = openPrivateKey(sources.kek, issuer.sealedPrivateKey, issuer.id);
  try {
    return softwareSigner(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }), issuer.keyAlgorithm);
  } finally {
    pkcs8.fill(0);
  }
}
