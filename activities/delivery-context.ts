/** What every destination kind receives to deliver one version (activities/deliver-version.ts builds it). */
import type { DestinationHostPolicy } from '../core/destination-hosts.js';
import type { CertificateRow } from '../db/certificates.js';
import type { VersionRow } from '../db/versions.js';

export interface DeliveryContext {
  certificate: CertificateRow;
  version: VersionRow;
  destinationIndex: number;
  /** The workflow's name for this request (e.g. `g3/rollout/1`); the idempotency key of the delivery. */
  rolloutKey: string;
  purpose: 'rollout' | 'rollback';
  /** Leaf PEM, ending in a newline. */
  certificatePem: string;
  /** The issuing chain up to (not including) the root, PEM. */
  chainPem: string;
  /** Only for server-generated keys; null when the key lives with the client or on an agent. */
  privateKeyPem: string | null;
  /** The team's `destinationHosts` as it is now (policy may have changed since the request). */
  destinationHosts: DestinationHostPolicy | undefined;
}

export interface DeliveryReport {
  /** Serial the destination reports it deployed (agents), or the delivered version's serial. */
  deployedSerial: string;
}
