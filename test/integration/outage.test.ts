/**
 * Failure design: a worker killed with SIGKILL in the middle of issuance, and a Temporal dev server
 * killed and restarted on its SQLite file. Nothing may be lost or issued twice.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inArray } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { certificateKeys, certificates, certificateVersions } from '../../db/schema.js';
import { authHeaders, createHarness, createTeamWithTokens, eventually, startChildWorker, type Harness } from '../support/harness.js';
import { startOwnTemporal } from '../support/own-temporal.js';

const run = promisify(execFile);
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
});

async function requestCertificates(harness: Harness, token: string, teamName: string, count: number, extra: Record<string, unknown>) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await harness.app.request('/v1/certificates', {
      method: 'POST',
      headers: authHeaders(token),
      body: JSON.stringify({ team: teamName, commonName: `svc${i}.example.test`, destinations: [{ type: 'file', directory: `svc${i}` }], ...extra }),
    });
    expect(response.status).toBe(202);
    ids.push(((await response.json()) as { id: string }).id);
  }
  return ids;
}

/** The invariants that must hold whatever crashed: contiguous generations, one active version, no duplicates, no orphan keys. */
async function expectConsistentInventory(harness: Harness, ids: string[], minGeneration: number) {
  const rows = await harness.db.select().from(certificates).where(inArray(certificates.id, ids));
  const versions = await harness.db.select().from(certificateVersions).where(inArray(certificateVersions.certificateId, ids));
  const keys = await harness.db.select().from(certificateKeys).where(inArray(certificateKeys.certificateId, ids));
  expect(new Set(versions.map((version) => version.serial)).size).toBe(versions.length);
  for (const row of rows) {
    const own = versions.filter((version) => version.certificateId === row.id).sort((a, b) => a.generation - b.generation);
    expect(own.map((version) => version.generation)).toEqual(own.map((_, index) => index + 1));
    expect(own.length).toBeGreaterThanOrEqual(minGeneration);
    expect(row.currentVersionId).toBe(own[own.length - 1]!.id);
    expect(own.filter((version) => version.status === 'active').map((version) => version.generation)).toEqual([own.length]);
    const ownKeys = keys.filter((key) => key.certificateId === row.id).map((key) => key.generation).sort((a, b) => a - b);
    // A key may exist for the generation being issued right now, never for an older one without a version.
    expect(ownKeys.filter((generation) => generation <= own.length)).toEqual(own.map((version) => version.generation));
    expect(ownKeys.filter((generation) => generation > own.length + 1)).toEqual([]);

    const served = (await run('openssl', ['x509', '-in', join(harness.deliveryRoot, `svc${ids.indexOf(row.id)}`, 'cert.pem'), '-noout', '-serial'])).stdout;
    const servedSerial = served.trim().toLowerCase().replace('serial=', '');
    expect(own.map((version) => version.serial)).toContain(servedSerial);
  }
}

describe('worker killed with SIGKILL mid-lifecycle', () => {
  it('resumes after restart with exactly one version per generation and no duplicate serials', async () => {
    const harness = await createHarness('kill9');
    cleanups.push(() => harness.close());
    const team = await createTeamWithTokens(harness);
    const first = startChildWorker(harness);
    cleanups.push(() => first.kill());
    await first.ready;

    const ids = await requestCertificates(harness, team.requester, team.teamName, 16, { validity: 'PT40S', keyAlgorithm: 'RSA-2048' });
    // Kill as soon as the first certificate is issued, while the others are mid-issuance.
    await eventually(async () => ((await harness.db.select().from(certificateVersions).where(inArray(certificateVersions.certificateId, ids))).length > 0 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 20,
      what: 'a first issued version',
    });
    await first.kill('SIGKILL');
    const issuedAtKill = (await harness.db.select().from(certificateVersions).where(inArray(certificateVersions.certificateId, ids))).length;
    expect(issuedAtKill).toBeLessThan(ids.length);

    const second = startChildWorker(harness);
    cleanups.push(() => second.kill());
    await second.ready;
    await eventually(async () => {
      const rows = await harness.db.select().from(certificates).where(inArray(certificates.id, ids));
      const versions = await harness.db.select().from(certificateVersions).where(inArray(certificateVersions.certificateId, ids));
      return rows.every((row) => row.state === 'active') && versions.filter((version) => version.generation === 2).length === ids.length ? true : undefined;
    }, { timeoutMs: 120_000, intervalMs: 500, what: 'every certificate to be issued and renewed once after the restart' });
    await second.kill('SIGTERM');
    await expectConsistentInventory(harness, ids, 2);
  });
});

describe('Temporal dev server restarted on its SQLite file', () => {
  it('keeps the durable renewal timer: the certificate renews by itself after the restart', async () => {
    const { harness, team, killAndRestart } = await startOwnTemporal('restart', cleanups);

    const [id] = await requestCertificates(harness, team.requester, team.teamName, 1, { validity: 'PT30S' });
    const readVersions = () => harness.db.select().from(certificateVersions).where(inArray(certificateVersions.certificateId, [id!]));
    await eventually(async () => ((await readVersions()).length === 1 ? true : undefined), { timeoutMs: 15_000, what: 'the first version' });

    await killAndRestart();

    // Renewal is due ~20 s after issuance; it must happen without any action on our side.
    await eventually(async () => ((await readVersions()).length >= 2 ? true : undefined), { timeoutMs: 60_000, intervalMs: 500, what: 'the renewal after the restart' });
    const status = await harness.client.workflow.getHandle(`certificate/${id}`).describe();
    expect(status.status.name).toBe('RUNNING');
    await expectConsistentInventory(harness, [id!], 2);
  });
});
