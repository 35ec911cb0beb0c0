/** @jsxImportSource hono/jsx */
/** Stuck and failing certificates: what their workflow is waiting for, the last error, the Temporal UI link. */
import { Time } from '../layout.js';
import { certificateName, StateBadge, type CertificateJson } from './certificates-table.js';

export function StuckPage({ items, stuckAfter, minAttempts }: { items: CertificateJson[]; stuckAfter: string; minAttempts: string }) {
  return (
    <>
      <form method="get" action="/ui/stuck" class="filters">
        <label>
          Stuck after (seconds or ISO duration)
          <input name="stuckAfter" value={stuckAfter} />
        </label>
        <label>
          Or failed attempts at least
          <input name="minAttempts" type="number" min="1" max="1000" value={minAttempts} />
        </label>
        <button type="submit">Show</button>
      </form>
      {items.length === 0 ? (
        <p class="muted">Nothing is stuck or failing.</p>
      ) : (
        <table id="stuck">
          <thead>
            <tr>
              <th>Certificate</th>
              <th>Team</th>
              <th>State</th>
              <th>Waiting for</th>
              <th>Last error</th>
              <th>Next retry</th>
              <th>Workflow</th>
            </tr>
          </thead>
          <tbody>
            {items.map((certificate) => (
              <tr data-certificate-id={certificate.id}>
                <td>
                  <a href={`/ui/certificates/${encodeURIComponent(certificate.id)}`}>{certificateName(certificate)}</a>
                </td>
                <td>{certificate.teamId}</td>
                <td>
                  <StateBadge state={certificate.state} />
                </td>
                <td>
                  {certificate.pendingStep ?? '—'}
                  {certificate.attempt ? ` (attempt ${certificate.attempt})` : ''}
                </td>
                <td class="error-message">{certificate.lastError ? `${certificate.lastError.type}: ${certificate.lastError.message}` : '—'}</td>
                <td>
                  <Time iso={certificate.nextRetryAt} />
                </td>
                <td>{certificate.temporalUiUrl ? <a href={certificate.temporalUiUrl} rel="noopener noreferrer">Temporal UI</a> : certificate.workflowId}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
