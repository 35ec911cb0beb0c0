/** Domain vocabulary shared by the API, activities and workflows. Pure types and constants only. */

export const PROFILES = ['tls-server', 'tls-client', 'mtls'] as const;
export type Profile = (typeof PROFILES)[number];

export const KEY_ALGORITHMS = ['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096', 'Ed25519'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

export const ROLES = ['requester', 'approver', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A principal is a named person or a service (a deployment pipeline, an operator); tokens act for one. */
export const PRINCIPAL_KINDS = ['person', 'service'] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

/**
 * Where a certificate stands. `revoked`, `rejected` and `approval_expired` are terminal; `failed`
 * waits for an operator (`renew` retries, `revoke` ends the lifecycle); `rollout_failed` means a
 * destination did not serve the new version, was rolled back to the previous one and is retried.
 * `renewal_overdue`: an ACME certificate whose client did not renew it by the end of its ARI window.
 */
export const CERT_STATES = [
  'pending',
  'awaiting_approval',
  'issuing',
  'active',
  'renewing',
  'rollout_failed',
  'revoking',
  'revoked',
  'failed',
  'rejected',
  'approval_expired',
  'renewal_overdue',
  /** An imported or discovered certificate whose names a managed certificate took over (inventory_items.adopted_by). */
  'adopted',
] as const;
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

/** A TLS endpoint that should serve the certificate once it is delivered: probed after each rollout. */
export interface TlsEndpoint {
  host: string;
  port: number;
  /** SNI name sent in the probe; defaults to the certificate's first DNS name. */
  serverName?: string;
}

/** Proof of rollout: the endpoints must serve the new version before `timeoutSeconds`, else roll back. */
export interface VerifySpec {
  endpoints: TlsEndpoint[];
  timeoutSeconds: number;
}

export interface FileDestination {
  type: 'file';
  /** Directory on the worker's host; cert.pem, chain.pem, fullchain.pem and key.pem are written into it. */
  directory: string;
  /** Numeric owner given to the written files (the worker must be allowed to chown). */
  owner?: { uid: number; gid: number };
  verify?: VerifySpec;
}

/** A `certflow agent` on a host pulls this assignment; `target` names a target in the agent's own config. */
export interface AgentDestination {
  type: 'agent';
  agentId: string;
  target: string;
  /** How long the workflow waits for the agent to report the deployed serial. */
  reportTimeoutSeconds: number;
  verify?: VerifySpec;
}

/** An HMAC-SHA256-signed POST of the certificate and chain (never the key). */
export interface WebhookDestination {
  type: 'webhook';
  url: string;
  /** The shared secret, sealed to the worker's sealing public key (ca/destination-secrets.ts); never returned by the API. */
  sealedSecret: string;
  verify?: VerifySpec;
}

/** A workload kind whose pods `rolloutRestart` restarts the way `kubectl rollout restart` does. */
export const ROLLOUT_RESTART_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type RolloutRestartKind = (typeof ROLLOUT_RESTART_KINDS)[number];

/**
 * A `kubernetes.io/tls` Secret in a namespace of a registered cluster (api/routes/clusters.ts)
 * that the team may use; the listed workloads are restarted after each change of the Secret.
 */
export interface KubernetesDestination {
  type: 'kubernetes';
  /** The registered cluster's name. */
  cluster: string;
  namespace: string;
  secretName: string;
  rolloutRestart?: Array<{ kind: RolloutRestartKind; name: string }>;
  verify?: VerifySpec;
}

export type Destination = FileDestination | AgentDestination | WebhookDestination | KubernetesDestination;
export type DestinationType = Destination['type'];

/**
 * How a certificate came to Certflow: its REST API (or the CLI and agent through it), an ACME client, or
 * cert-manager through Certflow's external issuer (`certflow k8s-issuer`, one certificate per cert-manager Certificate,
 * each of its CertificateRequests a generation).
 */
export const CERTIFICATE_SOURCES = ['api', 'acme', 'kubernetes'] as const;
/**
 * Certificates Certflow did not sign and only tracks (owner team, expiry, notifications): `imported` from PEM
 * files (`POST /v1/teams/:id/imports`), `discovered` on a TLS endpoint by a scan (`POST /v1/teams/:id/scans`).
 * They have no lifecycle workflow until adopted (`POST /v1/certificates/:id/adopt`).
 */
export const TRACKED_SOURCES = ['imported', 'discovered'] as const;
export type TrackedSource = (typeof TRACKED_SOURCES)[number];
export type CertificateSource = (typeof CERTIFICATE_SOURCES)[number] | TrackedSource;

/**
 * Where a certificate's private key is made; `acme`: each generation's CSR comes with the ACME client's order
 * (renewed by the client); `kubernetes`: the CSR of a cert-manager CertificateRequest (renewed by cert-manager,
 * which makes a new request: a renewal asked of Certflow is passed on to it, never signed here).
 */
export const KEY_SOURCES = ['server', 'csr', 'agent', 'acme', 'kubernetes'] as const;
export type KeySource = (typeof KEY_SOURCES)[number];

/** Key sources whose client renews (ACME, cert-manager): Certflow asks it to, and never renews them itself. */
export function renewedByClient(keySource: KeySource | undefined): boolean {
  return keySource === 'acme' || keySource === 'kubernetes';
}

/** Where a `kubernetes` certificate lives: the cluster the issuer controller names, and cert-manager's objects. */
export interface KubernetesRef {
  cluster: string;
  namespace: string;
  /** The cert-manager Certificate (or, without one, the CertificateRequest) the certificate was issued for. */
  name: string;
  certificateRequest: string;
  /** The CertificateRequest's UID. */
  uid: string;
  /**
   * cert-manager's revision of the Certificate the request was made for (`cert-manager.io/certificate-revision`).
   * Present only when `name` is a cert-manager Certificate: a later request for it is the certificate's next generation.
   */
  revision?: number;
}

/** One version on one destination: delivered, then verified as served (or failed and rolled back). */
export const ROLLOUT_STATES = ['pending', 'delivered', 'verified', 'failed', 'rolled_back'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

export const APPROVAL_STATES = ['pending', 'approved', 'rejected', 'expired'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

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
