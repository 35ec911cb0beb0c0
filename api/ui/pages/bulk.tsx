/** @jsxImportSource hono/jsx */
/** Bulk reissues: the list, and one operation's progress (the page reloads itself while it runs) with pause/resume/cancel. */
import { finishedCount as done, type BulkProgress } from '../../../core/bulk.js';
import type { bulkItemView, bulkOperationView } from '../../routes/bulk-reissues.js';
import type { UiSession } from '../session.js';
import { CsrfField, Time } from '../layout.js';

export type BulkOperationJson = ReturnType<typeof bulkOperationView>;
export type BulkDetailJson = BulkOperationJson & { progress: BulkProgress | null; items: ReturnType<typeof bulkItemView>[] };

export const FINISHED_BULK_STATES = new Set(['completed', 'cancelled', 'failed']);


export function BulkListPage({ items }: { items: BulkOperationJson[] }) {
  if (items.length === 0) return <p class="muted">No bulk operation yet.</p>;
  return (
    <table id="bulk-operations">
      <thead>
        <tr>
          <th>Operation</th>
          <th>State</th>
          <th>Counts (last recorded)</th>
          <th>Started</th>
          <th>Finished</th>
        </tr>
      </thead>
      <tbody>
        {items.map((operation) => (
          <tr>
            <td>
              <a href={`/ui/bulk/${encodeURIComponent(operation.id)}`}>{operation.id}</a>
              <div class="muted">{operation.options.reason}</div>
            </td>
            <td>
              <span class={`state state-${operation.state}`}>{operation.state}</span>
            </td>
            <td>
              {Object.entries(operation.counts)
                .map(([key, value]) => `${key} ${String(value)}`)
                .join(', ')}
            </td>
            <td>
              <Time iso={operation.createdAt} />
            </td>
            <td>
              <Time iso={operation.finishedAt} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function BulkDetailPage({ operation, session }: { operation: BulkDetailJson; session: UiSession }) {
  const counts = operation.progress?.counts ?? operation.counts;
  const selected = counts.selected;
  const finished = FINISHED_BULK_STATES.has(operation.state);
  const id = encodeURIComponent(operation.id);
  return (
    <>
      <dl id="bulk-operation">
        <dt>State</dt>
        <dd>
          <span class={`state state-${operation.progress?.state ?? operation.state}`} id="bulk-state">
            {operation.progress?.state ?? operation.state}
          </span>
          {finished ? null : <span class="muted"> (this page reloads every 2 s)</span>}
        </dd>
        <dt>Progress</dt>
        <dd>
          <progress max={Math.max(selected, 1)} value={Math.min(done(counts), Math.max(selected, 1))} /> {done(counts)} of {selected}
        </dd>
        <dt>Counts</dt>
        <dd id="bulk-counts">
          {Object.entries(counts)
            .map(([key, value]) => `${key} ${String(value)}`)
            .join(', ')}
        </dd>
        <dt>Reason</dt>
        <dd>{operation.options.reason}</dd>
        <dt>Started</dt>
        <dd>
          <Time iso={operation.createdAt} />
        </dd>
        <dt>Finished</dt>
        <dd>
          <Time iso={operation.finishedAt} />
        </dd>
      </dl>
      {finished ? null : (
        <div class="decision">
          {(['pause', 'resume', 'cancel'] as const).map((action) => (
            <form method="post" action={`/ui/bulk/${id}/${action}`}>
              <CsrfField session={session} />
              <button type="submit" class={action === 'cancel' ? 'reject' : 'secondary'}>
                {action}
              </button>
            </form>
          ))}
        </div>
      )}
      <h2>Certificates</h2>
      <table>
        <thead>
          <tr>
            <th>Certificate</th>
            <th>Outcome</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {operation.items.map((item) => (
            <tr>
              <td>
                <a href={`/ui/certificates/${encodeURIComponent(item.certificateId)}`}>{item.certificateId}</a>
              </td>
              <td>{item.outcome ?? 'in flight'}</td>
              <td>{item.reason ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
