/** @jsxImportSource hono/jsx */
/** The approvals queue: requests waiting for a person, with approve and reject forms (the API's approval routes decide). */
import type { approvalView } from '../../routes/approvals.js';
import type { UiSession } from '../session.js';
import { CsrfField, Time } from '../layout.js';
import { certificateName, type CertificateJson } from './certificates-table.js';

export type ApprovalJson = ReturnType<typeof approvalView>;

export function DecisionForm({ certificateId, session }: { certificateId: string; session: UiSession }) {
  const id = encodeURIComponent(certificateId);
  return (
    <form method="post" action={`/ui/certificates/${id}/decision`} class="decision">
      <CsrfField session={session} />
      <input name="reason" required maxlength={1000} placeholder="Reason (for the audit log)" aria-label="Reason" />
      <button type="submit" name="decision" value="approve">
        Approve
      </button>
      <button type="submit" name="decision" value="reject" class="reject">
        Reject
      </button>
    </form>
  );
}

export function ApprovalsPage({ pending, session }: { pending: { certificate: CertificateJson; approval: ApprovalJson | null }[]; session: UiSession }) {
  if (pending.length === 0) return <p class="muted">No request is waiting for approval.</p>;
  return (
    <table id="approvals">
      <thead>
        <tr>
          <th>Certificate</th>
          <th>Team</th>
          <th>Why it needs approval</th>
          <th>Requested</th>
          <th>Deadline</th>
          <th>Decision</th>
        </tr>
      </thead>
      <tbody>
        {pending.map(({ certificate, approval }) => (
          <tr data-certificate-id={certificate.id}>
            <td>
              <a href={`/ui/certificates/${encodeURIComponent(certificate.id)}`}>{certificateName(certificate)}</a>
            </td>
            <td>{certificate.teamId}</td>
            <td>{approval ? approval.reasons.map((reason) => reason.message).join('; ') : <span class="muted">opening…</span>}</td>
            <td>
              <Time iso={approval?.requestedAt} /> {approval ? <span class="muted">by {approval.requestedBy}</span> : null}
            </td>
            <td>
              <Time iso={approval?.deadlineAt} />
            </td>
            <td>
              <DecisionForm certificateId={certificate.id} session={session} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
