/**
 * A bulk reissue in an incident, on the real Temporal dev server and Postgres: some of its
 * certificates are revoked through the API while it runs, and Postgres is unresponsive (SIGSTOP) for
 * 60 s. It must complete by itself with exactly one outcome per certificate, the revoked ones
 * `skipped` (or replaced, if their renewal finished first), its counts equal to the outcomes in
 * bulk_items, and the failure visible as `lastError` while Postgres is away. Also: a renewal whose
 * lifecycle ends without reporting is skipped by the safety net; an item keeps the first outcome
 * recorded for it, whoever records second.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { and, eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { recordBulkOutcome, sendBulkRenewals } from '../../activities/bulk.js';
import { BULK_OUTCOMES, EMPTY_COUNTS, finishedCount, type BulkOutcome, type BulkProgress } from '../../core/bulk.js';
import type { StepFailure } from '../../core/until-done.js';
import { addBulkItems, findBulkOperation, insertBulkOperation, listBulkItems } from '../../db/bulk.js';
import { newId } from '../../db/ids.js';
import { certificates, certificateVersions } from '../../db/schema.js';
import { bulkProgressQuery, bulkWorkflowId } from '../../contracts/bulk-messages.js';
import { statusQuery } from '../../contracts/lifecycle-messages.js';
import { activityDeps, authHeaders, eventually, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { makePostgresUnresponsive, type PostgresOutage } from '../support/postgres-outage.js';

const CERTIFICATES = 30;
const OUTAGE_MS = 60_000;

let outage: PostgresOutage | null = null;
let ids: string[] = [];

const suite = useIntegrationSuite('bulk-outage', { worker: true, team: true, teardown: () => outage?.end() });

async function createCertificates(count: number, label = 'outage'): Promise<string[]> {
  const created: string[] = [];
  for (let index = 0; index < count; index++) {
    const response = await suite.harness.app.request('/v1/certificates', {
      method: 'POST',
      headers: authHeaders(suite.team.requester),
      body: JSON.stringify({ team: suite.team.teamName, dnsNames: [`${label}-${index}.example.test`], validity: 'P1D', destinations: [{ type: 'file', directory: `${label}/${index}` }] }),
    });
    expect(response.status, await response.clone().text()).toBe(202);
    created.push(((await response.json()) as { id: string }).id);
  }
  await eventually(
    async () => {
      const rows = await suite.harness.db.select().from(certificates).where(inArray(certificates.id, created));
      return rows.length === count && rows.every((row) => row.state === 'active') ? true : undefined;
    },
    { timeoutMs: 120_000, what: `${count} certificates to be active` },
  );
  return created.sort();
}

function revoke(id: string): Promise<Response> {
  return Promise.resolve(suite.harness.app.request(`/v1/certificates/${id}/revoke`, { method: 'POST', headers: authHeaders(suite.team.requester), body: JSON.stringify({ reason: 'keyCompromise' }) }));
}

describe('a bulk reissue in an incident', () => {
  it('completes by itself with one outcome per certificate while some are revoked and Postgres is unresponsive for 60 s', { timeout: 600_000 }, async () => {
    ids = await createCertificates(CERTIFICATES);
    // Revoked before the outage (awaited) and as it begins (answered after it): early ids are sent
    // (in flight or done) by then, late ids are still waiting for a slot.
    const revokedBefore = [ids[1]!, ids[3]!, ids[CERTIFICATES - 2]!];
    const revokedDuring = [ids[2]!, ids[CERTIFICATES - 1]!, ids[CERTIFICATES - 4]!];

    const response = await suite.harness.app.request('/v1/bulk-reissues', {
      method: 'POST',
      headers: authHeaders(TEST_BOOTSTRAP_TOKEN),
      body: JSON.stringify({ selector: { teams: [suite.team.teamName] }, reason: 'incident drill with an outage', revokeSuperseded: true, maxConcurrent: 4, maxPerSecond: 2 }),
    });
    expect(response.status, await response.clone().text()).toBe(202);
    const bulkId = ((await response.json()) as { id: string }).id;
    const handle = suite.harness.client.workflow.getHandle(bulkWorkflowId(bulkId));
    await eventually(async () => ((await handle.query(bulkProgressQuery)).counts.sent >= 6 ? true : undefined), { timeoutMs: 60_000, what: 'six renewals to be sent' });

    for (const id of revokedBefore) expect([200, 202], id).toContain((await revoke(id)).status);
    const lateRevocations = revokedDuring.map((id) => revoke(id));
    await new Promise((resolve) => setTimeout(resolve, 200));

    outage = await makePostgresUnresponsive(suite.harness.databaseUrl);
    const outageEndsAt = Date.now() + OUTAGE_MS;
    const seen: StepFailure[] = [];
    while (Date.now() < outageEndsAt) {
      const progress = await handle.query(bulkProgressQuery).catch(() => null);
      if (progress?.lastError) seen.push(progress.lastError);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    expect((await handle.query(bulkProgressQuery)).state, 'still running when Postgres is back').toBe('running');
    await outage.end();
    outage = null;
    for (const [index, answer] of (await Promise.all(lateRevocations)).entries()) expect([200, 202], revokedDuring[index]).toContain(answer.status);
    expect(seen.length, 'lastError shown while Postgres was unresponsive').toBeGreaterThan(0);
    expect(seen[0]!.attempt).toBeGreaterThanOrEqual(1);

    const final = (await handle.result()) as BulkProgress;
    expect(final.state).toBe('completed');
    expect(final.lastError, 'no step is failing any more').toBeNull();

    // Exactly one outcome per certificate, and the counts are those outcomes.
    const items = await listBulkItems(suite.harness.db, bulkId, { limit: 1_000 });
    expect(items.map((item) => item.certificateId).sort()).toEqual(ids);
    expect(items.filter((item) => item.outcome === null)).toEqual([]);
    const byOutcome = Object.fromEntries(BULK_OUTCOMES.map((outcome) => [outcome, items.filter((item) => item.outcome === outcome).length])) as Record<BulkOutcome, number>;
    expect(final.counts).toMatchObject({ selected: CERTIFICATES, ...byOutcome, failed: 0 });
    expect(finishedCount(final.counts)).toBe(final.counts.selected);
    expect(final.counts.revoked).toBe(items.filter((item) => item.revokedAt !== null).length);

    const revoked = new Set([...revokedBefore, ...revokedDuring]);
    for (const item of items) {
      if (revoked.has(item.certificateId)) {
        // Skipped, unless its renewal had finished before the revocation reached it.
        expect(['skipped', 'rolled_out'], item.certificateId).toContain(item.outcome);
        if (item.outcome === 'skipped') expect(item.reason, item.certificateId).toBeTruthy();
      } else {
        expect(item.outcome, item.certificateId).toBe('rolled_out');
      }
    }
    expect(byOutcome.skipped).toBeGreaterThanOrEqual(3); // at least those revoked before their renewal was sent

    // The row: final state and counts, never left running.
    const row = await findBulkOperation(suite.harness.db, bulkId);
    expect(row).toMatchObject({ state: 'completed', counts: final.counts });
    expect(row!.finishedAt).toBeInstanceOf(Date);

    // The certificates not revoked have exactly one new version, the old one revoked as superseded.
    const kept = ids.filter((id) => !revoked.has(id));
    const versions = await suite.harness.db.select().from(certificateVersions).where(inArray(certificateVersions.certificateId, kept));
    expect(new Set(versions.map((version) => version.serial)).size).toBe(versions.length);
    for (const id of kept) {
      const mine = versions.filter((version) => version.certificateId === id).sort((a, b) => a.generation - b.generation);
      expect(mine.map((version) => [version.generation, version.status]), id).toEqual([
        [1, 'revoked'],
        [2, 'active'],
      ]);
    }
    const revokedRows = await suite.harness.db.select().from(certificates).where(and(inArray(certificates.id, [...revoked]), eq(certificates.state, 'revoked')));
    expect(revokedRows).toHaveLength(revoked.size);
  });

  it('skips a renewal whose lifecycle workflow ended without reporting (the safety net), so the operation finishes', { timeout: 180_000 }, async () => {
    const response = await suite.harness.app.request('/v1/certificates', {
      method: 'POST',
      headers: authHeaders(suite.team.requester),
      body: JSON.stringify({ team: suite.team.teamName, dnsNames: ['terminated.example.test'], validity: 'P1D', destinations: [{ type: 'file', directory: 'terminated' }] }),
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    await eventually(async () => ((await suite.harness.db.select().from(certificates).where(eq(certificates.id, id)))[0]?.state === 'active' ? true : undefined), { timeoutMs: 60_000, what: 'the certificate to be active' });
    // The next delivery fails (ENOTDIR) and is retried: the renewal stays in flight.
    const versionsDir = join(suite.harness.deliveryRoot, 'terminated', 'versions');
    await rm(versionsDir, { recursive: true, force: true });
    await writeFile(versionsDir, 'not a directory');

    const started = await suite.harness.app.request('/v1/bulk-reissues', {
      method: 'POST',
      headers: authHeaders(TEST_BOOTSTRAP_TOKEN),
      body: JSON.stringify({ selector: { certificateIds: [id] }, reason: 'safety net', maxConcurrent: 1, maxPerSecond: 1 }),
    });
    expect(started.status).toBe(202);
    const bulkId = ((await started.json()) as { id: string }).id;
    const handle = suite.harness.client.workflow.getHandle(bulkWorkflowId(bulkId));
    await eventually(async () => ((await handle.query(bulkProgressQuery)).inFlight === 1 ? true : undefined), { timeoutMs: 30_000, what: 'the renewal to be in flight' });
    await eventually(async () => ((await suite.harness.client.workflow.getHandle(`certificate/${id}`).query(statusQuery)).attempt > 0 ? true : undefined), { timeoutMs: 60_000, what: 'the delivery to fail' });
    // An operator ends the lifecycle by hand: it will never report to the operation.
    await suite.harness.client.workflow.getHandle(`certificate/${id}`).terminate('test: a lifecycle that ends without reporting');

    const final = (await handle.result()) as BulkProgress;
    expect(final.state).toBe('completed');
    expect(final.counts).toMatchObject({ selected: 1, sent: 1, skipped: 1, rolled_out: 0, failed: 0 });
    const [item] = await listBulkItems(suite.harness.db, bulkId, { limit: 10 });
    expect(item).toMatchObject({ certificateId: id, outcome: 'skipped' });
    expect(item!.reason).toMatch(/lifecycle workflow ended \(terminated\)/);
    expect(await findBulkOperation(suite.harness.db, bulkId)).toMatchObject({ state: 'completed', counts: final.counts });
  });

  it('keeps the first outcome recorded for a certificate: a retried, later or concurrent report changes nothing', async () => {
    const deps = activityDeps(suite.harness);
    const ids = await createCertificates(2, 'first-wins');
    const bulkId = newId('blk');
    await insertBulkOperation(suite.harness.db, { id: bulkId, selector: { certificateIds: ids.slice(0, 2) }, options: { reason: 'first write wins', maxConcurrent: 1, maxPerSecond: 1, revokeSuperseded: false }, state: 'running', counts: { ...EMPTY_COUNTS }, workflowId: bulkWorkflowId(bulkId), createdBy: 'test' });
    await addBulkItems(suite.harness.db, bulkId, ids.slice(0, 2).map((certificateId) => ({ certificateId, oldVersionId: null })));
    const [version] = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, ids[0]!));

    const first = { certificateId: ids[0]!, outcome: 'rolled_out' as const, reason: null, oldVersionId: version!.id, newVersionId: version!.id };
    await recordBulkOutcome(deps, { bulkId, report: first });
    await recordBulkOutcome(deps, { bulkId, report: first });
    await recordBulkOutcome(deps, { bulkId, report: { certificateId: ids[0]!, outcome: 'skipped', reason: 'the safety net, too late', oldVersionId: null, newVersionId: null } });
    // Two reports at once for the other certificate: exactly one of them is kept, whole.
    await Promise.all([
      recordBulkOutcome(deps, { bulkId, report: { certificateId: ids[1]!, outcome: 'failed', reason: 'A', oldVersionId: null, newVersionId: null } }),
      recordBulkOutcome(deps, { bulkId, report: { certificateId: ids[1]!, outcome: 'skipped', reason: 'B', oldVersionId: null, newVersionId: null } }),
    ]);

    const items = await listBulkItems(suite.harness.db, bulkId, { limit: 10 });
    expect(items.find((item) => item.certificateId === ids[0])).toMatchObject({ outcome: 'rolled_out', reason: null, oldVersionId: version!.id, newVersionId: version!.id });
    const other = items.find((item) => item.certificateId === ids[1])!;
    expect([{ outcome: 'failed', reason: 'A' }, { outcome: 'skipped', reason: 'B' }]).toContainEqual({ outcome: other.outcome, reason: other.reason });
  });

  it('counts as sent, not skipped, a renewal whose lifecycle reported before a retried send found it ended', async () => {
    const deps = activityDeps(suite.harness);
    const [reported, ended] = await createCertificates(2, 'retried-send');
    const bulkId = newId('blk');
    await insertBulkOperation(suite.harness.db, { id: bulkId, selector: { certificateIds: [reported!, ended!] }, options: { reason: 'retried send', maxConcurrent: 2, maxPerSecond: 2, revokeSuperseded: false }, state: 'running', counts: { ...EMPTY_COUNTS }, workflowId: bulkWorkflowId(bulkId), createdBy: 'test' });
    await addBulkItems(suite.harness.db, bulkId, [reported!, ended!].map((certificateId) => ({ certificateId, oldVersionId: null })));
    await recordBulkOutcome(deps, { bulkId, report: { certificateId: reported!, outcome: 'verified', reason: null, oldVersionId: null, newVersionId: null } });

    // The retry of a send whose first attempt reached both: by now neither lifecycle is running.
    const targets = [reported!, ended!].map((certificateId) => ({ certificateId, oldVersionId: null, workflowId: `certificate/${certificateId}-ended` }));
    const result = await sendBulkRenewals(deps, { bulkId, reason: 'retried send', targets });
    expect(result.sent).toEqual([reported]);
    expect(result.skipped.map((report) => report.certificateId)).toEqual([ended]);
    const items = await listBulkItems(suite.harness.db, bulkId, { limit: 10 });
    expect(Object.fromEntries(items.map((item) => [item.certificateId, item.outcome]))).toEqual({ [reported!]: 'verified', [ended!]: 'skipped' });
  });

  it('answers a bulk operation whose certificate waits for an operator after its issuance (a destination refusing delivery)', async () => {
    const refusing = createServer((_request, response) => response.writeHead(401).end());
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = refusing.address() as AddressInfo;
      const { id } = await suite.certificates.create({ team: suite.team.teamName, dnsNames: ['refused.example.test'], validity: 'P1D', destinations: [{ type: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: 'refused-0123456789abcdef0123456789abcdef' }] });
      const handle = suite.harness.client.workflow.getHandle(`certificate/${id}`);
      await eventually(async () => ((await handle.query(statusQuery)).pendingStep === 'wait-for-operator' ? true : undefined), { timeoutMs: 30_000, what: 'the delivery to be refused' });

      const started = await suite.harness.app.request('/v1/bulk-reissues', {
        method: 'POST',
        headers: authHeaders(TEST_BOOTSTRAP_TOKEN),
        body: JSON.stringify({ selector: { certificateIds: [id] }, reason: 'refused destination', maxConcurrent: 1, maxPerSecond: 1 }),
      });
      expect(started.status, await started.clone().text()).toBe(202);
      const bulkId = ((await started.json()) as { id: string }).id;
      const final = (await suite.harness.client.workflow.getHandle(bulkWorkflowId(bulkId)).result()) as BulkProgress;
      expect(final).toMatchObject({ state: 'completed', counts: { selected: 1, failed: 1 } });
      const [item] = await listBulkItems(suite.harness.db, bulkId, { limit: 10 });
      expect(item).toMatchObject({ certificateId: id, outcome: 'failed', reason: expect.stringMatching(/DestinationRejected/) });
    } finally {
      await new Promise<void>((resolve) => refusing.close(() => resolve()));
    }
  });
});
