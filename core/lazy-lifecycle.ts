/**
 * New ACME certificates that need no approval are issued by an ACME issuance shard workflow, without
 * a lifecycle workflow each (workflows/acme-issuance-shard.ts). Their lifecycle is started lazily, by the
 * first message that addresses them (a renewal asked of Certflow, the client's renewal, a
 * revocation): `signalWithStart` with a run that starts in its watch. Until then the inventory sweep
 * watches them (core/inventory-sweep.ts). Pure: the start's shape, shared by the API and the worker.
 */
import type { SearchAttributePair } from '@temporalio/common';
import type { LifecycleInput, LifecycleStatus } from './lifecycle.js';
import { renewalTime } from './renewal.js';
import { SEARCH_ATTRIBUTE_KEYS } from './search-attributes.js';
import type { CertState, CertificateSource, KeySource } from './types.js';

/** Certificates whose lifecycle may not be running because it was never needed yet. */
export function startsLazily(certificate: { source: CertificateSource; keySource: KeySource }): boolean {
  return certificate.source === 'acme' && certificate.keySource === 'acme';
}

export interface LazyCertificate {
  id: string;
  teamName: string;
  commonName: string | null;
  state: CertState;
  renewBeforeSeconds: number | null;
  keySource: KeySource;
}

/** The input of a run started for `generation`, already issued: it watches for the client's renewal. */
export function watchingInput(certificate: LazyCertificate, generation: number): LifecycleInput {
  return {
    certificateId: certificate.id,
    generation,
    currentVersion: null,
    renewBeforeSeconds: certificate.renewBeforeSeconds,
    destinations: [],
    keySource: certificate.keySource,
    approval: null,
    watching: true,
  };
}

/**
 * The start half of a lazy `signalWithStart`. A run that has closed (revoked, ended) is not started
 * again (REJECT_DUPLICATE): the caller hears "already started" and treats the certificate as ended.
 */
export function lazyStartOptions(certificate: LazyCertificate, generation: number, workflowId: string, taskQueue: string) {
  return {
    workflowId,
    taskQueue,
    args: [watchingInput(certificate, generation)] as [LifecycleInput],
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    typedSearchAttributes: <SearchAttributePair[]>[
      { key: SEARCH_ATTRIBUTE_KEYS.certificateId, value: certificate.id },
      { key: SEARCH_ATTRIBUTE_KEYS.team, value: certificate.teamName },
      { key: SEARCH_ATTRIBUTE_KEYS.commonName, value: certificate.commonName ?? '' },
      { key: SEARCH_ATTRIBUTE_KEYS.certState, value: certificate.state },
      { key: SEARCH_ATTRIBUTE_KEYS.renewalAttempt, value: 0 },
    ],
  };
}

/**
 * The status a lazily started certificate with no run shows (`GET /v1/certificates/:id`): what its run
 * would say — being issued by its ACME issuance shard, or issued and waiting for its client's renewal.
 */
export function statusWithoutRun(
  certificate: { id: string; state: CertState; renewBeforeSeconds: number | null; updatedAt: Date },
  version: { generation: number; createdAt: Date; notAfter: Date } | null,
): LifecycleStatus {
  const watching = version !== null && (certificate.state === 'active' || certificate.state === 'renewal_overdue');
  const renewAt = watching
    ? renewalTime({ issuedAt: version.createdAt, notAfter: version.notAfter, certificateId: certificate.id, generation: version.generation, renewBeforeSeconds: certificate.renewBeforeSeconds })
    : null;
  return {
    certificateId: certificate.id,
    state: certificate.state,
    generation: version?.generation ?? 1,
    pendingStep: watching ? 'wait-for-renewal' : certificate.state === 'pending' ? 'issue' : 'none',
    currentVersion: null,
    nextRenewalAt: renewAt?.toISOString() ?? null,
    nextRetryAt: null,
    attempt: 0,
    lastError: null,
    revokedAt: null,
    stateSince: certificate.updatedAt.toISOString(),
  };
}
