/** @jsxImportSource hono/jsx */
/** One certificate: its state, current version, last error and the link to its workflow in the Temporal UI. */
import type { UiSession } from '../session.js';
import { Time } from '../layout.js';
import { certificateName, StateBadge, type CertificateJson } from './certificates-table.js';
import { DecisionForm } from './approvals.js';

export function CertificatePage({ certificate, session }: { certificate: CertificateJson; session: UiSession }) {
  const version = certificate.currentVersion;
  return (
    <>
      <dl id="certificate">
        <dt>Name</dt>
        <dd>{certificateName(certificate)}</dd>
        <dt>Id</dt>
        <dd>{certificate.id}</dd>
        <dt>Team</dt>
        <dd>{certificate.teamId}</dd>
        <dt>State</dt>
        <dd>
          <StateBadge state={certificate.state} />
        </dd>
        <dt>Source</dt>
        <dd>{certificate.source}</dd>
        <dt>DNS names</dt>
        <dd>{certificate.dnsNames.join(', ') || '—'}</dd>
        <dt>Profile / key</dt>
        <dd>
          {certificate.profile} / {certificate.keyAlgorithm}
        </dd>
        <dt>Serial</dt>
        <dd>{version?.serial ?? '—'}</dd>
        <dt>Valid</dt>
        <dd>
          <Time iso={version?.notBefore} /> → <Time iso={version?.notAfter} />
        </dd>
        <dt>Next renewal</dt>
        <dd>
          <Time iso={certificate.nextRenewalAt} />
        </dd>
        <dt>Pending step</dt>
        <dd>
          {certificate.pendingStep ?? '—'}
          {certificate.attempt ? ` (attempt ${certificate.attempt})` : ''}
        </dd>
        <dt>Next retry</dt>
        <dd>
          <Time iso={certificate.nextRetryAt} />
        </dd>
        <dt>Last error</dt>
        <dd id="last-error" class="error-message">
          {certificate.lastError ? `${certificate.lastError.type}: ${certificate.lastError.message}` : '—'}
        </dd>
        <dt>Workflow</dt>
        <dd>
          {certificate.temporalUiUrl ? (
            <a id="temporal-link" href={certificate.temporalUiUrl} rel="noopener noreferrer">
              {certificate.workflowId} in the Temporal UI
            </a>
          ) : (
            certificate.workflowId
          )}
        </dd>
      </dl>
      {certificate.state === 'awaiting_approval' ? (
        <>
          <h2>Decision</h2>
          <DecisionForm certificateId={certificate.id} session={session} />
        </>
      ) : null}
    </>
  );
}
