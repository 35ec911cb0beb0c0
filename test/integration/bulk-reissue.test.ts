/**
 * The bulkReissue workflow on the real Temporal dev server and real Postgres, driven directly
 * (the API has its own test): every selected certificate gets exactly one new version through its
 * own lifecycle workflow, each outcome is recorded, superseded versions are revoked, the window
 * is never exceeded, and a worker killed with SIGKILL mid-run changes none of that.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq, inArray } from 'drizzle-orm';
import type { BulkProgress, BulkReissueInput } from '../../core/bulk.js';
import { EMPTY_COUNTS } from '../../core/bulk.js';
import { findBulkOperation, insertBulkOperation, listBulkItems } from '../../db/bulk.js';
import { newId } from '../../db/ids.js';
import { certificates, certificateVersions } from '../../db/schema.js';
import { bulkProgressQuery, bulkWorkflowId } from '../../contracts/bulk-messages.js';
import { authHeaders, createHarness, createTeamWithTokens, eventually, startChildWorker, startInProcessWorker, type Harness, type InProcessWorker } from '../support/harness.js';
import { startOwnTemporal } from '../support/own-temporal.js';

let harness: Harness;
let worker: InProcessWorker | null = null;
const cleanups: Array<() => Promise<void>> = [];
/** "A run over a few hundred certificates" (issue 5), in a window much smaller than the selection. */
const SELECTED = 200;
const WINDOW = 25;

beforeAll(async () => {
  harness = await createHarness('bulk');
});

afterAll(async () => {
  await worker?.stop();
  await harness?.close();
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function createCertificates(team: Awaited<ReturnType<typeof createTeamWithTokens>>, count: number, label: string, on: Harness = harness): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    const response = await on.app.request('/v1/certificates', {
      method: 'POST',
      headers: authHeaders(team.requester),
      body: JSON.stringify({ team: team.teamName, dnsNames: [`${label}-${index}.example.test`], validity: 'P1D', destinations: [{ type: 'file', directory: `bulk/${label}-${index}` }] }),
    });
    expect(response.status).toBe(202);
    ids.push(((await response.json()) as { id: string }).id);
  }
  await eventually(async () => {
    const rows = await on.db.select().from(certificates).where(inArray(certificates.id, ids));
    return rows.every((row) => row.state === 'active') ? true : undefined;
  }, { timeoutMs: Math.max(60_000, count * 600), what: `${count} certificates to be active` });
  return ids;
}

async function startBulk(teamId: string, options: Partial<BulkReissueInput['options']> = {}, on: Harness = harness) {
  const bulkId = newId('blk');
  const input: BulkReissueInput = {
    bulkId,
    selector: { teamIds: [teamId] },
    options: { reason: 'integration test', maxConcurrent: 4, maxPerSecond: 20, revokeSuperseded: true, ...options },
  };
  await insertBulkOperation(on.db, { id: bulkId, selector: input.selector, options: input.options, state: 'running', counts: EMPTY_COUNTS, workflowId: bulkWorkflowId(bulkId), createdBy: 'test' });
  const handle = await on.client.workflow.start('bulkReissue', { workflowId: bulkWorkflowId(bulkId), taskQueue: on.taskQueue, args: [input] });
  return { bulkId, handle };
}

async function expectOneNewVersionEach(ids: string[], bulkId: string, on: Harness = harness): Promise<void> {
  const versions = await on.db.select().from(certificateVersions).where(inArray(certificateVersions.certificateId, ids));
  expect(new Set(versions.map((version) => version.serial)).size).toBe(versions.length);
  for (const id of ids) {
    const mine = versions.filter((version) => version.certificateId === id).sort((a, b) => a.generation - b.generation);
    expect(mine.map((version) => version.generation), id).toEqual([1, 2]);
    expect(mine[0]!.status, id).toBe('revoked');
    expect(mine[0]!.revocationReason, id).toBe('superseded');
    expect(mine[1]!.status, id).toBe('active');
  }
  const items = await listBulkItems(on.db, bulkId, { limit: 1000 });
  expect(items.map((item) => item.certificateId).sort()).toEqual([...ids].sort());
  for (const item of items) {
    expect(item.outcome, item.certificateId).toBe('rolled_out');
    expect(item.revokedAt, item.certificateId).toBeInstanceOf(Date);
  }
}

describe('bulkReissue', () => {
  it('renews a few hundred selected certificates once each, within the window, and revokes what it superseded (listed in the CRL)', { timeout: 300_000 }, async () => {
    worker = await startInProcessWorker(harness);
    const team = await createTeamWithTokens(harness);
    const other = await createTeamWithTokens(harness);
    const ids = await createCertificates(team, SELECTED, 'win');
    const untouched = await createCertificates(other, 2, 'other');

    const { bulkId, handle } = await startBulk(team.teamId, { maxConcurrent: WINDOW, maxPerSecond: 100 });
    let peakInFlight = 0;
    let result: BulkProgress | null = null;
    const done = handle.result().then((value) => (result = value as BulkProgress));
    while (!result) {
      const progress = await handle.query(bulkProgressQuery).catch(() => null);
      if (progress) peakInFlight = Math.max(peakInFlight, progress.inFlight);
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    const final = result as BulkProgress;
    expect(final.state).toBe('completed');
    expect(final.counts).toMatchObject({ selected: SELECTED, sent: SELECTED, rolled_out: SELECTED, failed: 0, skipped: 0, revoked: SELECTED });
    expect(peakInFlight).toBeLessThanOrEqual(WINDOW);
    await expectOneNewVersionEach(ids, bulkId);

    // Every superseded serial is on its issuer's CRL, as openssl reads it.
    const superseded = await harness.db.select().from(certificateVersions).where(and(inArray(certificateVersions.certificateId, ids), eq(certificateVersions.generation, 1)));
    const issuerIds = [...new Set(superseded.map((version) => version.issuerId))];
    const listed = new Set<string>();
    for (const issuerId of issuerIds) {
      const crl = Buffer.from(await (await harness.app.request(`/pki/issuers/${issuerId}.crl`)).arrayBuffer());
      const text = await new Promise<string>((resolve, reject) => {
        const child = execFile('openssl', ['crl', '-inform', 'DER', '-noout', '-text'], (error, stdout) => (error ? reject(error) : resolve(stdout)));
        child.stdin!.end(crl);
      });
      for (const match of text.matchAll(/Serial Number: ([0-9A-F]+)/g)) listed.add(match[1]!.toLowerCase().replace(/^0+/, ''));
    }
    for (const version of superseded) expect(listed.has(version.serial.replace(/^0+/, '')), version.serial).toBe(true);
    expect((await findBulkOperation(harness.db, bulkId))?.state).toBe('completed');

    const others = await harness.db.select().from(certificateVersions).where(inArray(certificateVersions.certificateId, untouched));
    expect(others.map((version) => version.generation)).toEqual([1, 1]);
    const described = await harness.client.workflow.getHandle(`certificate/${ids[0]}`).describe();
    expect(described.searchAttributes['BulkOperationId']).toEqual([bulkId]);
  });

  it('loses nothing when the worker is killed with SIGKILL in the middle of the run', { timeout: 180_000 }, async () => {
    const team = await createTeamWithTokens(harness);
    const ids = await createCertificates(team, 12, 'kill');
    await worker?.stop();
    worker = null;

    const child = startChildWorker(harness);
    await child.ready;
    const { bulkId, handle } = await startBulk(team.teamId, { maxConcurrent: 4, maxPerSecond: 4 });
    await eventually(async () => {
      const progress = await handle.query(bulkProgressQuery);
      return progress.counts.sent >= 4 && progress.counts.rolled_out < 12 ? true : undefined;
    }, { timeoutMs: 60_000, what: 'the run to be half-way' });
    await child.kill('SIGKILL');

    worker = await startInProcessWorker(harness);
    const final = (await handle.result()) as BulkProgress;
    expect(final.state).toBe('completed');
    expect(final.counts).toMatchObject({ selected: 12, sent: 12, rolled_out: 12, failed: 0, skipped: 0, revoked: 12 });
    await expectOneNewVersionEach(ids, bulkId);
    const versions = await harness.db.select().from(certificateVersions).where(and(inArray(certificateVersions.certificateId, ids), eq(certificateVersions.status, 'active')));
    expect(versions).toHaveLength(12);
  });

  it('loses nothing when the Temporal dev server is killed and restarted on its SQLite file mid-run', { timeout: 240_000 }, async () => {
    const { harness: own, team, killAndRestart } = await startOwnTemporal('bulk-restart', cleanups);
    const ids = await createCertificates(team, 10, 'restart', own);

    const { bulkId, handle } = await startBulk(team.teamId, { maxConcurrent: 3, maxPerSecond: 2 }, own);
    await eventually(async () => {
      const progress = await handle.query(bulkProgressQuery);
      return progress.counts.sent >= 3 && progress.counts.rolled_out < 10 ? true : undefined;
    }, { timeoutMs: 60_000, what: 'the run to be under way' });
    await killAndRestart();

    const final = await eventually(async () => {
      const description = await handle.describe();
      if (description.status.name === 'COMPLETED') return (await handle.result()) as BulkProgress;
      throw new Error(`${description.status.name}: ${JSON.stringify(await handle.query(bulkProgressQuery).catch((error: unknown) => String(error)))}`);
    }, { timeoutMs: 180_000, intervalMs: 1_000, what: 'the bulk run to complete after the restart' });
    expect(final.counts).toMatchObject({ selected: 10, sent: 10, rolled_out: 10, failed: 0, skipped: 0, revoked: 10 });
    expect((await handle.query(bulkProgressQuery)).state).toBe('completed');
    await expectOneNewVersionEach(ids, bulkId, own);
  });
});
