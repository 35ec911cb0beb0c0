/** Domain vocabulary shared by the API, activities and workflows. Pure types and constants only. */

export const PROFILES = ['tls-server', 'tls-client', 'mtls'] as const;
export type Profile = (typeof PROFILES)[number];

export const KEY_ALGORITHMS = ['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096', 'Ed25519'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

export const ROLES = ['requester', 'approver', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * Where a certificate stands. `revoked` is terminal; `failed` waits for an operator (`renew` retries,
 * `revoke` ends the lifecycle).
 */
export const CERT_STATES = ['pending', 'issuing', 'active', 'renewing', 'revoking', 'revoked', 'failed'] as const;
export type CertState = (typeof CERT_STATES)[number];

export const VERSION_STATUSES = ['active', 'superseded', 'revoked'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

/** RFC 5280 §5.3.1 reason codes that a requester may give. */
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export interface FileDestination {
  type: 'file';
  /** Directory on the worker's host; cert.pem, chain.pem, fullchain.pem and key.pem are written into it. */
  directory: string;
}
export type Destination = FileDestination;

/** The facts about one issued X.509 certificate that workflows and the API need (never key material). */
export interface VersionSummary {
  versionId: string;
  generation: number;
  serial: string;
  issuerId: string;
  /** When the certificate was signed; notBefore is slightly earlier to tolerate clock skew. */
  issuedAt: string;
  notBefore: string;
  notAfter: string;
  fingerprintSha256: string;
}
