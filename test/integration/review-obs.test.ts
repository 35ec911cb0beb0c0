/**
 * Review of issue 14's observability and notification features (branch review-obs): each case is
 * an attack that should be refused and, at the time of the review, is not. Real Postgres and
 * Temporal (the integration project's global setup); the worker is cmd/worker.ts as a child process.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifyBulkFinished } from '../../activities/bulk-notification.js';
import type { ActivityDeps } from '../../activities/deps.js';
import { EMPTY_COUNTS } from '../../core/bulk.js';
import { fanOutNotifications } from '../../db/notification-deliveries.js';
import { bulkItems, bulkOperations, notifications } from '../../db/schema.js';
import { findFreePort } from '../../devservices/free-port.js';
import { authHeaders, createHarness, createTeamWithTokens, startChildWorker, type ChildWorker, type Harness, type Team } from '../support/harness.js';
import { certificatesAs } from '../support/integration-suite.js';

let harness: Harness;
let teamA: Team;
let teamB: Team;
let worker: ChildWorker | null = null;

beforeAll(async () => {
  harness = await createHarness('review-obs');
  teamA = await createTeamWithTokens(harness);
  teamB = await createTeamWithTokens(harness);
}, 300_000);

afterAll(async () => {
  await worker?.kill('SIGTERM');
  await harness?.close();
});

describe('review-obs', () => {
  it('fail/a production worker (NODE_ENV=production, no CERTFLOW_METRICS_TOKEN) serves /metrics to anyone, unlike the API (403)', async () => {
    const port = await findFreePort();
    worker = startChildWorker(harness, { NODE_ENV: 'production', CERTFLOW_WORKER_METRICS_PORT: String(port), CERTFLOW_WORKER_METRICS_HOST: '127.0.0.1' });
    await worker.ready;
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await response.text();
    // What an unauthenticated scraper learns today: renewal failures by reason, issuance latency, process internals.
    expect(text).not.toContain('certflow_renewals_failed_total');
    expect(response.status).toBe(403);
  }, 180_000);

  it('fail/a team admin can add contacts without limit: every notification fans out to all of them (storm, and it starves other teams\' deliveries)', async () => {
    const CONTACTS = 60;
    const statuses: number[] = [];
    for (let index = 0; index < CONTACTS; index++) {
      const response = await harness.app.request(`/v1/teams/${teamA.teamId}/contacts`, {
        method: 'POST',
        headers: authHeaders(teamA.admin),
        body: JSON.stringify({ channel: 'email', address: `flood-${index}@example.test` }),
      });
      statuses.push(response.status);
    }
    await harness.db.insert(notifications).values({ teamId: teamA.teamId, certificateId: null, kind: 'bulk_finished', recipients: ['team'], message: 'storm', dedupeKey: `review-obs/storm/${teamA.teamId}` });
    // Drain the outbox as the delivery workflow would (other tests' rows may be in it too: count ours only).
    let ours = 0;
    for (;;) {
      const batch = await fanOutNotifications(harness.db, { now: new Date(), maxAgeMs: 24 * 3600_000, limit: 200 });
      if (batch.notifications === 0) break;
      ours += batch.deliveries;
    }
    const accepted = statuses.filter((status) => status === 201).length;
    // Expected: a per-team contact cap (say 20) refuses the rest with a problem+json 409/422.
    expect(accepted, `${accepted} contacts accepted; one notification became ${ours} deliveries`).toBeLessThanOrEqual(20);
  }, 120_000);

  it("fail/the end of a platform admin's bulk operation tells team A the counts (and reason) of team B's certificates", async () => {
    const create = (team: Team, name: string) => certificatesAs(harness.app, team.requester).create({ team: team.teamName, dnsNames: [name], validity: 'P1D' });
    const a = await create(teamA, 'bulk-a.example.test');
    const b1 = await create(teamB, 'bulk-b1.example.test');
    const b2 = await create(teamB, 'bulk-b2.example.test');
    const bulkId = `blk_review${Date.now()}`;
    const counts = { ...EMPTY_COUNTS, selected: 3, sent: 3, verified: 1, failed: 2 };
    await harness.db.insert(bulkOperations).values({ id: bulkId, selector: {} as never, options: {} as never, state: 'completed' as never, counts, workflowId: `bulk/${bulkId}`, createdBy: 'admin', teamId: null });
    await harness.db.insert(bulkItems).values([a, b1, b2].map((certificate) => ({ bulkId, certificateId: certificate.id })));
    await notifyBulkFinished({ db: harness.db } as unknown as ActivityDeps, { bulkId, state: 'completed' as never, counts, teamId: null, reason: 'team B key compromise: crt keys leaked on b-host-7' });
    const rows = await harness.db.select().from(notifications).where(eq(notifications.dedupeKey, `bulk-finished/${bulkId}/${teamA.teamId}`));
    expect(rows).toHaveLength(1);
    const toTeamA = rows[0]!;
    // Team A has one certificate in the operation; what it is told should be about that one only.
    expect((toTeamA.details as { counts: { selected: number } }).counts.selected, toTeamA.message).toBe(1);
    expect(toTeamA.message).not.toContain('team B key compromise');
  }, 120_000);
});
