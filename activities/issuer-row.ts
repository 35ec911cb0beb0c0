/** The stored row of a CA just created: its certificate, and where its key lives (activities/ca-keys.ts). */
import type { CaKeyAndCertificate } from '../ca/authority.js';
import { sealPrivateKey, type KeyEncryptionKeys } from '../ca/key-encryption.js';
import { exportPrivateKeyPkcs8 } from '../ca/keys.js';
import type { x509 } from '../ca/x509.js';
import type { KeyAlgorithm } from '../core/types.js';
import type { AuditEvent } from '../db/audit.js';
import type { NewIssuer } from '../db/issuers.js';
import type { CaKeyLocation } from './ca-keys.js';

export interface IssuerIdentity {
  id: string;
  kind: 'root' | 'intermediate';
  parentId: string | null;
  commonName: string;
}

export function storedIssuer(identity: IssuerIdentity, certificate: x509.X509Certificate, keyAlgorithm: KeyAlgorithm, location: CaKeyLocation): NewIssuer {
  return {
    ...identity,
    status: 'active',
    keyAlgorithm,
    certificatePem: certificate.toString('pem'),
    ...location,
    notBefore: certificate.notBefore,
    notAfter: certificate.notAfter,
  };
}

/** The row of a software CA made by ca/authority.ts createRootCa / createIntermediateCa: its key sealed under the KEK. */
export async function issuerRow(kek: KeyEncryptionKeys, identity: IssuerIdentity, ca: CaKeyAndCertificate): Promise<NewIssuer> {
  // The row id is the sealed key's associated data: a key cannot be moved to another row.
  const sealedPrivateKey = sealPrivateKey(kek, await exportPrivateKeyPkcs8(ca.keys.privateKey), identity.id);
  return storedIssuer(identity, ca.certificate, ca.keyAlgorithm, { keyBackend: 'software', sealedPrivateKey, keyRef: null });
}

/** `issuer.created`: which CA exists, and where its key lives (never the key). Written once per issuer. */
export function issuerCreatedEvent(issuer: NewIssuer, actor: string, at: Date): AuditEvent {
  return {
    at,
    actor,
    action: 'issuer.created',
    details: {
      issuerId: issuer.id,
      kind: issuer.kind,
      parentId: issuer.parentId ?? null,
      commonName: issuer.commonName,
      keyAlgorithm: issuer.keyAlgorithm,
      keyBackend: issuer.keyBackend ?? 'software',
      keyRef: issuer.keyRef ?? null,
      notBefore: issuer.notBefore.toISOString(),
      notAfter: issuer.notAfter.toISOString(),
    },
    dedupeKey: `issuer.created/${issuer.id}`,
  };
}
