/** The stored row of a CA just created (ca/authority.ts): its certificate, and its key sealed under the KEK. */
import type { CaKeyAndCertificate } from '../ca/authority.js';
import { sealPrivateKey, type KeyEncryptionKeys } from '../ca/key-encryption.js';
import { exportPrivateKeyPkcs8 } from '../ca/keys.js';
import type { NewIssuer } from '../db/issuers.js';

export interface IssuerIdentity {
  id: string;
  kind: 'root' | 'intermediate';
  parentId: string | null;
  commonName: string;
}

export async function issuerRow(kek: KeyEncryptionKeys, identity: IssuerIdentity, ca: CaKeyAndCertificate): Promise<NewIssuer> {
  return {
    ...identity,
    status: 'active',
    keyAlgorithm: ca.keyAlgorithm,
    certificatePem: ca.certificate.toString('pem'),
    // The row id is the sealed key's associated data: a key cannot be moved to another row.
    sealedPrivateKey: sealPrivateKey(kek, await exportPrivateKeyPkcs8(ca.keys.privateKey), identity.id),
    notBefore: ca.certificate.notBefore,
    notAfter: ca.certificate.notAfter,
  };
}
