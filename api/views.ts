/** JSON shapes the API returns. Key material never appears here. */
import type { LifecycleStatus } from '../core/lifecycle.js';
import type { Destination } from '../core/types.js';
import type { CertificateRow } from '../db/certificates.js';
import type { IssuerRow } from '../db/issuers.js';
import type { VersionRow } from '../db/versions.js';

export function versionView(version: VersionRow) {
  return {
    id: version.id,
    generation: version.generation,
    serial: version.serial,
    issuerId: version.issuerId,
    notBefore: version.notBefore.toISOString(),
    notAfter: version.notAfter.toISOString(),
    fingerprintSha256: version.fingerprintSha256,
    status: version.status,
    revokedAt: version.revokedAt?.toISOString() ?? null,
    revocationReason: version.revocationReason ?? null,
  };
}

/** Where the Temporal UI shows a namespace's workflows. */
export interface TemporalUi {
  baseUrl: string;
  namespace: string;
}

/**
 * Deep link to a workflow's page in the Temporal UI: the UI's page of the workflow's latest run (ui-server v2.42.1 routes `/namespaces/:namespace/workflows/:workflow`
 * to it): no run id, so a link stays right after a continue-as-new. The id is one path segment, so its `/` is
 * encoded (checked in the real UI by test/integration/dashboard.test.ts).
 */
export function temporalWorkflowUrl(ui: TemporalUi, workflowId: string): string {
  return `${ui.baseUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** `ui` is absent only where no Temporal UI is known; the link is then null. */
export function certificateView(certificate: CertificateRow, version: VersionRow | null, live: LifecycleStatus | null, ui?: TemporalUi) {
  return {
    id: certificate.id,
    teamId: certificate.teamId,
    workflowId: certificate.workflowId,
    // Imported and discovered certificates have no workflow (`workflowId` empty): no link.
    temporalUiUrl: ui && certificate.workflowId ? temporalWorkflowUrl(ui, certificate.workflowId) : null,
    state: live?.state ?? certificate.state,
    commonName: certificate.commonName,
    dnsNames: certificate.dnsNames,
    ipAddresses: certificate.ipAddresses,
    uris: certificate.uris,
    profile: certificate.profile,
    keyAlgorithm: certificate.keyAlgorithm,
    keySource: certificate.keySource,
    source: certificate.source,
    acmeAccountId: certificate.acmeAccountId,
    kubernetes: certificate.kubernetes ?? null,
    renewalRequestedAt: certificate.renewalRequestedAt?.toISOString() ?? null,
    renewalRequestReason: certificate.renewalRequestReason ?? null,
    validitySeconds: certificate.validitySeconds,
    renewBeforeSeconds: certificate.renewBeforeSeconds,
    destinations: certificate.destinations.map(destinationView),
    currentVersion: version ? versionView(version) : null,
    nextRenewalAt: live?.nextRenewalAt ?? null,
    pendingStep: live?.pendingStep ?? null,
    attempt: live?.attempt ?? null,
    nextRetryAt: live?.nextRetryAt ?? null,
    lastError: live?.lastError ?? null,
    createdAt: certificate.createdAt.toISOString(),
    updatedAt: certificate.updatedAt.toISOString(),
  };
}

/** A destination as the API shows it: a webhook's sealed secret never leaves the database. */
export function destinationView(destination: Destination) {
  if (destination.type !== 'webhook') return destination;
  const { sealedSecret: _sealed, ...shown } = destination;
  return shown;
}

export function issuerView(issuer: IssuerRow) {
  return {
    id: issuer.id,
    kind: issuer.kind,
    parentId: issuer.parentId,
    status: issuer.status,
    commonName: issuer.commonName,
    keyAlgorithm: issuer.keyAlgorithm,
    notBefore: issuer.notBefore.toISOString(),
    notAfter: issuer.notAfter.toISOString(),
    certificatePem: issuer.certificatePem,
  };
}
