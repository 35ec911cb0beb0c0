/**
 * New ACME certificates signed by the ACME issuance shard workflows (workflows/acme-issuance-shard.ts)
 * instead of a lifecycle workflow each, with the real worker (cmd/worker.ts) as a child process, the real
 * Temporal dev server and Postgres, and openssl as the relying party:
 * - no workflow is started for such a certificate; a revocation starts its lifecycle (202), which
 *   revokes it (OCSP `revoked`) and ends;
 * - a bulk reissue that covers one starts its lifecycle with the renewal (sent, not skipped), and
 *   ARI tells the client to renew;
 * - a worker SIGKILLed mid-batch loses nothing: once the restarted worker has the batch activity again
 *   (its heartbeat timed out), every finalized order has exactly one certificate, no serial is used
 *   twice, and each signed certificate is in its shard's history (what `certflow reconcile` reads).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import { count, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AcmeDeps } from '../../api/acme/context.js';
import { EabSecret } from '../../api/acme/eab.js';
import { createApp } from '../../api/app.js';
import { reconcilePlatform } from '../../activities/reconcile.js';
import { readShardIssuance } from '../../activities/reconcile-history.js';
import { acmeShardOf, acmeShardWorkflowId } from '../../core/acme-issuance-shard.js';
import { acmeOrders, certificates, certificateVersions, issuedSerials } from '../../db/schema.js';
import { ariCertIdOf, InProcessAcmeClient, versionOfLeaf, type AcmeOrder } from '../support/acme-in-process.js';
import { activityDeps, authHeaders, createTeamWithTokens, eventually, startChildWorker, type ChildWorker, type Team } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const run = promisify(execFile);
const SHARDS = 2;

let worker: ChildWorker | null = null;
const suite = useIntegrationSuite('acme-batch-issuance', { http: true, teardown: async () => worker?.kill() });

let deps: AcmeDeps;
let rest: ReturnType<typeof createApp>;
let team: Team;
let client: InProcessAcmeClient;
let names = 0;

function startWorker(): ChildWorker {
  // The batches are small (the API's acmeIssuance below): a kill lands mid-batch, and the batch's heartbeat timeout hands it to the restarted worker.
  return startChildWorker(suite.harness);
}

beforeAll(async () => {
  worker = startWorker();
  await worker.ready;
  deps = { ...suite.harness.apiDeps, acmeIssuance: { shards: SHARDS, batchSize: 4 }, acme: { eabSecret: EabSecret.fromBytes(randomBytes(32)), allowUnboundAccounts: false, validitySeconds: 7 * 86_400 } };
  rest = createApp(deps);
  team = await createTeamWithTokens(suite.harness, { policy: { allowedDomains: ['batch.example.test'], maxValidity: 'P30D', acme: { preauthorized: true } } });
  client = await InProcessAcmeClient.register({ deps, rest, teamId: team.teamId, token: team.admin });
}, 120_000);

afterAll(async () => {
  await worker?.kill();
});

const fresh = (label: string) => [`${label}-${++names}.batch.example.test`];

async function lifecycleStatus(certificateId: string): Promise<string | 'not_found'> {
  try {
    return (await suite.harness.client.workflow.getHandle(`certificate/${certificateId}`).describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'not_found';
    throw error;
  }
}

/** What `openssl ocsp` says of the certificate's current version, asking Certflow's responder over HTTP. */
async function ocspStatus(certificateId: string, dir: string): Promise<string> {
  const bundle = await (await rest.request(`/v1/certificates/${certificateId}/certificate.pem`, { headers: authHeaders(team.requester, false) })).text();
  const [leaf, intermediate] = bundle.split(/(?<=-----END CERTIFICATE-----)\n?/).filter((pem) => pem.includes('BEGIN'));
  const roots = await (await rest.request('/pki/roots.pem')).text();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'leaf.pem'), `${leaf!.trim()}\n`);
  await writeFile(join(dir, 'intermediate.pem'), `${intermediate!.trim()}\n`);
  await writeFile(join(dir, 'chain.pem'), `${intermediate!.trim()}\n${roots.trim()}\n`);
  const { stdout } = await run('openssl', ['ocsp', '-no_nonce', '-issuer', join(dir, 'intermediate.pem'), '-cert', join(dir, 'leaf.pem'), '-url', `${suite.baseUrl}/pki/ocsp`, '-CAfile', join(dir, 'chain.pem')]);
  return stdout.replace(`${join(dir, 'leaf.pem')}: `, '').split('\n')[0]!.trim();
}

describe('ACME batch issuance', () => {
  it('starts no workflow for a new ACME certificate; a revocation starts its lifecycle, which revokes it (OCSP revoked) and ends', async () => {
    const leaf = await client.obtain(fresh('revoked'));
    const { certificateId } = await versionOfLeaf(suite.harness.db, leaf.leafPem);
    expect(await lifecycleStatus(certificateId)).toBe('not_found');
    expect(await ocspStatus(certificateId, join(suite.harness.deliveryRoot, 'ocsp-before'))).toBe('good');

    const revoke = await rest.request(`/v1/certificates/${certificateId}/revoke`, { method: 'POST', headers: authHeaders(team.requester), body: JSON.stringify({ reason: 'keyCompromise' }) });
    expect(revoke.status, await revoke.clone().text()).toBe(202);
    await eventually(async () => ((await ocspStatus(certificateId, join(suite.harness.deliveryRoot, 'ocsp-after'))) === 'revoked' ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 250,
      what: 'OCSP revoked',
    });
    await eventually(async () => ((await lifecycleStatus(certificateId)) === 'COMPLETED' ? true : undefined), { timeoutMs: 20_000, what: 'the lifecycle started by the revocation to end' });
    const [row] = await suite.harness.db.select().from(certificates).where(eq(certificates.id, certificateId));
    expect(row).toMatchObject({ state: 'revoked', revocationReason: 'keyCompromise' });
  });

  it('starts the lifecycle of a certificate a bulk reissue covers, with the renewal: sent, not skipped, and ARI asks the client to renew', async () => {
    const leaf = await client.obtain(fresh('bulk'));
    const { certificateId } = await versionOfLeaf(suite.harness.db, leaf.leafPem);
    expect(await lifecycleStatus(certificateId)).toBe('not_found');

    const created = await rest.request('/v1/bulk-reissues', {
      method: 'POST',
      headers: authHeaders(team.admin),
      body: JSON.stringify({ selector: { certificateIds: [certificateId] }, reason: 'rotating the intermediate' }),
    });
    expect(created.status, await created.clone().text()).toBe(202);
    const { id: bulkId } = (await created.json()) as { id: string };
    const signalled = await eventually(
      async () => {
        const progress = (await (await rest.request(`/v1/bulk-reissues/${bulkId}`, { headers: authHeaders(team.admin, false) })).json()) as {
          acmeClients: { signalled: number };
          items: Array<{ outcome: string | null; reason: string | null }>;
        };
        return progress.acmeClients.signalled > 0 || progress.items.some((item) => item.outcome === 'skipped') ? progress : undefined;
      },
      { timeoutMs: 30_000, what: 'the bulk operation to signal the certificate' },
    );
    // Not `skipped` as "its lifecycle workflow is not running": the signal started it.
    expect(signalled.items).toEqual([expect.objectContaining({ outcome: null })]);
    expect(signalled.acmeClients.signalled).toBe(1);
    expect(await lifecycleStatus(certificateId)).toBe('RUNNING');
    const info = await eventually(
      async () => {
        const answer = (await (await client.get(`/acme/renewal-info/${ariCertIdOf(leaf.leafPem)}`)).json()) as { suggestedWindow: { end: string }; explanationURL?: string };
        return answer.explanationURL ? answer : undefined;
      },
      { timeoutMs: 20_000, what: 'the renewal window to move into the past' },
    );
    expect(Date.parse(info.suggestedWindow.end)).toBeLessThan(Date.now());
  });

  it('loses nothing when the worker is SIGKILLed mid-batch: every finalized order gets exactly one certificate, no serial twice', async () => {
    const orders: Array<{ order: AcmeOrder; names: string[] }> = [];
    for (let index = 0; index < 24; index++) {
      const orderNames = fresh('killed');
      orders.push({ order: await client.order(orderNames), names: orderNames });
    }
    const orderIds = orders.map(({ order }) => order.url.split('/').at(-1)!);
    // Finalize all at once (each answers `processing` or `valid`), and kill the worker as soon as the first is signed.
    const finalized = Promise.all(orders.map(({ order, names: orderNames }) => client.finalize(order, orderNames, 120_000)));
    await eventually(
      async () => {
        const [signed] = await suite.harness.db
          .select({ n: count() })
          .from(certificateVersions)
          .innerJoin(acmeOrders, eq(acmeOrders.certificateId, certificateVersions.certificateId))
          .where(inArray(acmeOrders.id, orderIds));
        return signed!.n > 0 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 5, what: 'the first certificate of the batch' },
    );
    await worker!.kill('SIGKILL');
    const [signedBeforeKill] = await suite.harness.db
      .select({ n: count() })
      .from(certificateVersions)
      .innerJoin(acmeOrders, eq(acmeOrders.certificateId, certificateVersions.certificateId))
      .where(inArray(acmeOrders.id, orderIds));
    worker = startWorker();
    await worker.ready;

    const valid = await finalized;
    expect(valid.every((order) => order.status === 'valid' && order.certificate)).toBe(true);
    const rows = await suite.harness.db.select().from(acmeOrders).where(inArray(acmeOrders.id, orderIds));
    const certificateIds = rows.map((row) => row.certificateId!);
    expect(new Set(certificateIds).size).toBe(orders.length);
    const versions = await suite.harness.db.select().from(certificateVersions).where(inArray(certificateVersions.certificateId, certificateIds));
    // One version per certificate, each the certificate's current one, and no serial twice.
    expect(versions).toHaveLength(orders.length);
    expect(new Set(versions.map((version) => version.serial)).size).toBe(orders.length);
    const stored = await suite.harness.db.select().from(certificates).where(inArray(certificates.id, certificateIds));
    expect(stored.every((row) => row.state === 'active' && versions.some((version) => version.id === row.currentVersionId))).toBe(true);
    // Every serial signed is recorded for its certificate (a signature cut short by the kill may have a serial of its own).
    const serials = await suite.harness.db.select().from(issuedSerials).where(inArray(issuedSerials.certificateId, certificateIds));
    expect(new Set(serials.map((serial) => serial.serial)).size).toBe(serials.length);
    expect(versions.every((version) => serials.some((serial) => serial.serial === version.serial))).toBe(true);
    // Signed by the shards, before and after the kill: no lifecycle workflow for any of them.
    expect(new Set(await Promise.all(certificateIds.map(lifecycleStatus)))).toEqual(new Set(['not_found']));
    // Each signed certificate is in its shard's history, as recorded (what reconcile recovers after a restore).
    for (const version of versions) {
      const inHistory = await readShardIssuance(suite.harness.client, acmeShardWorkflowId(suite.harness.taskQueue, acmeShardOf(version.certificateId, SHARDS)), version.certificateId);
      expect(inHistory).toMatchObject({ versionId: version.id, serial: version.serial, certificatePem: version.certificatePem });
    }
    console.log(`batch kill: ${orders.length - signedBeforeKill!.n} of ${orders.length} certificates were not signed yet when the worker was killed`);
  }, 180_000);

  it('certflow reconcile: a lazily issued certificate is normal, and its first version, lost by a restore, is recovered from its shard history (not signed again)', async () => {
    const leaf = await client.obtain(fresh('restored'));
    const signed = await versionOfLeaf(suite.harness.db, leaf.leafPem);
    const [version] = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.id, signed.id));
    // What a restore from a backup taken between finalize and the signature leaves: the row, no version, no serial.
    await suite.harness.db.transaction(async (tx) => {
      await tx.update(certificates).set({ currentVersionId: null, state: 'pending' }).where(eq(certificates.id, signed.certificateId));
      await tx.delete(certificateVersions).where(eq(certificateVersions.certificateId, signed.certificateId));
      await tx.delete(issuedSerials).where(eq(issuedSerials.certificateId, signed.certificateId));
    });

    // This file's team only: the integration suite's other files share the database.
    const report = await reconcilePlatform(activityDeps(suite.harness), { taskQueue: suite.harness.taskQueue, externalCheckpoints: [], acmeShards: SHARDS, team: { id: team.teamId, name: team.teamName } });
    // The other certificates of this file are lazily issued too (no lifecycle run): none of them is an alert.
    expect(report.findings.filter((finding) => finding.action === 'alert')).toEqual([]);
    expect(report.findings.filter((finding) => finding.certificateId === signed.certificateId)).toEqual([
      expect.objectContaining({ action: 'recover_versions', detail: expect.stringContaining(acmeShardWorkflowId(suite.harness.taskQueue, acmeShardOf(signed.certificateId, SHARDS))) }),
    ]);
    const [recovered] = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, signed.certificateId));
    expect(recovered).toMatchObject({ id: version!.id, serial: version!.serial, certificatePem: version!.certificatePem, generation: 1 });
    const [row] = await suite.harness.db.select().from(certificates).where(eq(certificates.id, signed.certificateId));
    expect(row).toMatchObject({ state: 'active', currentVersionId: version!.id });
    expect(await lifecycleStatus(signed.certificateId)).toBe('not_found');
  }, 60_000);
});
