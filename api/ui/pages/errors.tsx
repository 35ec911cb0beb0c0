/** @jsxImportSource hono/jsx */
/** Error groups (GET /v1/errors): what is failing right now, and for how many certificates. */
import { Time } from '../layout.js';

export interface ErrorGroupJson {
  id: string;
  teamId: string | null;
  type: string;
  reason: string;
  lastMessage: string;
  lastActivity: string | null;
  firstSeen: string;
  lastSeen: string;
  count: number;
  certificateCount: number;
  sampleCertificateIds: string[];
}

export function ErrorsPage({ items }: { items: ErrorGroupJson[] }) {
  if (items.length === 0) return <p class="muted">No errors recorded.</p>;
  return (
    <table id="error-groups">
      <thead>
        <tr>
          <th>Type</th>
          <th>Team</th>
          <th>Last message</th>
          <th>Failures</th>
          <th>Certificates</th>
          <th>Last seen</th>
        </tr>
      </thead>
      <tbody>
        {items.map((group) => (
          <tr>
            <td>
              {group.type}
              {group.lastActivity ? <div class="muted">{group.lastActivity}</div> : null}
            </td>
            <td>{group.teamId ?? 'platform'}</td>
            <td class="error-message">{group.lastMessage}</td>
            <td>{group.count}</td>
            <td>
              {group.certificateCount}{' '}
              {group.sampleCertificateIds.map((id) => (
                <a href={`/ui/certificates/${encodeURIComponent(id)}`}>{id} </a>
              ))}
            </td>
            <td>
              <Time iso={group.lastSeen} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
