/**
 * The production-shaped topology (`npm run dev:cluster`, devservices/cluster.ts): the Temporal server on Postgres,
 * two workers, two APIs behind the round-robin proxy — driven only over HTTP through the proxy, like a client.
 * Lifecycle (issue, automatic renewal), one of the two workers SIGKILLed mid-renewal, the Temporal server killed
 * and restarted, Postgres stopped and started: afterwards nothing is lost and nothing was signed twice.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { workerSealingKey } from '../../ca/destination-secrets.js';
import { encodeSealingPublicKey } from '../../ca/sealed-box.js';
import { certificateKeys, certificates, certificateVersions } from '../../db/schema.js';
import { startCluster, type Cluster } from '../../devservices/cluster.js';
import { authHeaders, createHarness, eventually, TEST_AUDIT_KEY_HEX, TEST_BOOTSTRAP_TOKEN, TEST_DESTINATION_HOSTS, TEST_KEK_HEX, type Harness } from '../support/harness.js';
import { certificatesAs, overHttp, type CertificateClient } from '../support/integration-suite.js';

const run = promisify(execFile);

interface CertificateView {
  state: string;
  currentVersion: { serial: string; generation: number } | null;
}

let cluster: Cluster;
let harness: Harness;
let client: CertificateClient;
let deliveryRoot: string;
const teamName = 'cluster-team';
const ids: string[] = [];

beforeAll(async () => {
  const dataDir = join(inject('tempDir'), 'cluster');
  deliveryRoot = join(dataDir, 'deliveries');
  await mkdir(deliveryRoot, { recursive: true });
  const startedAt = Date.now();
  cluster = await startCluster({
    dataDir,
    ports: { api: 0, acme: null, temporal: 0, temporalUi: 0, postgres: 0 },
    secrets: {
      kekHex: TEST_KEK_HEX,
      auditKeyHex: TEST_AUDIT_KEY_HEX,
      sealingPublicKey: encodeSealingPublicKey(workerSealingKey(Buffer.from(TEST_KEK_HEX, 'hex')).publicKey),
      bootstrapToken: TEST_BOOTSTRAP_TOKEN,
    },
    // 30 s certificates renew by themselves within the test.
    extraEnv: { CERTFLOW_FILE_DESTINATION_ROOT: deliveryRoot, CERTFLOW_ALLOW_PRIVATE_DESTINATIONS: 'loopback', CERTFLOW_MIN_VALIDITY: 'PT15S' },
    log: () => undefined,
  });
  console.log(`cluster topology started in ${Date.now() - startedAt} ms: ${JSON.stringify(cluster.timings)}`);
  // Only to read the inventory; requests go through the proxy.
  harness = await createHarness('cluster', { temporalAddress: cluster.temporalAddress, databaseUrl: cluster.databaseUrl, bootstrapCa: false });

  const api = overHttp(cluster.apiUrl);
  const team = await api.request('/v1/teams', {
    method: 'POST',
    headers: authHeaders(TEST_BOOTSTRAP_TOKEN),
    body: JSON.stringify({ name: teamName, policy: { allowedDomains: ['example.test'], maxValidity: 'P30D', keyAlgorithms: ['ECDSA-P256', 'RSA-2048'], destinationHosts: TEST_DESTINATION_HOSTS } }),
  });
  expect(team.status, await team.clone().text()).toBe(201);
  const { id: teamId } = (await team.json()) as { id: string };
  const token = await api.request(`/v1/teams/${teamId}/tokens`, { method: 'POST', headers: authHeaders(TEST_BOOTSTRAP_TOKEN), body: JSON.stringify({ role: 'requester' }) });
  expect(token.status).toBe(201);
  client = certificatesAs(api, ((await token.json()) as { token: string }).token);
}, 900_000);

afterAll(async () => {
  await harness?.close();
  await cluster?.stop();
});

async function request(count: number, body: Record<string, unknown>): Promise<string[]> {
  const created: string[] = [];
  for (let i = 0; i < count; i++) {
    const directory = `svc-${ids.length}`;
    const { id } = await client.create({ team: teamName, commonName: `${directory}.example.test`, destinations: [{ type: 'file', directory }], ...body });
    ids.push(id);
    created.push(id);
  }
  return created;
}

const versionsOf = (of: string[]) => harness.db.select().from(certificateVersions).where(inArray(certificateVersions.certificateId, of));

async function waitForGeneration(of: string[], generation: number, what: string, timeoutMs = 120_000): Promise<void> {
  await eventually(
    async () => {
      const rows = await harness.db.select().from(certificates).where(inArray(certificates.id, of));
      const versions = await versionsOf(of);
      const reached = new Set(versions.filter((v) => v.generation >= generation).map((v) => v.certificateId));
      return rows.every((row) => row.state === 'active') && reached.size === of.length ? true : undefined;
    },
    { timeoutMs, intervalMs: 500, what },
  );
}

describe('the cluster topology (Temporal on Postgres, 2 workers, 2 APIs behind one port)', () => {
  it('serves the API through the proxy from both API processes', async () => {
    expect(cluster.proxy.healthy()).toHaveLength(2);
    for (let i = 0; i < 4; i++) expect((await fetch(`${cluster.apiUrl}/readyz`)).status).toBe(200);
    expect((await fetch(cluster.temporalUiUrl!)).status).toBe(200);
  });

  it('issues, delivers and renews by itself', async () => {
    const [id] = await request(1, { validity: 'PT30S' });
    const first = await client.waitFor<CertificateView>(id!, (view) => view.state === 'active', { timeoutMs: 30_000, what: 'issuance' });
    const renewed = await client.waitFor<CertificateView>(id!, (view) => (view.currentVersion?.generation ?? 0) >= 2 && view.state === 'active', {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'the automatic renewal',
    });
    expect(renewed.currentVersion!.serial).not.toBe(first.currentVersion!.serial);
  });

  it('loses nothing when one of the two workers is SIGKILLed mid-renewal: the other finishes the work', async () => {
    const batch = await request(8, { validity: 'P1D', keyAlgorithm: 'RSA-2048' });
    await waitForGeneration(batch, 1, 'the batch to be issued');
    for (const id of batch) await client.renew(id, 'cluster-test');
    await eventually(async () => ((await versionsOf(batch)).some((v) => v.generation === 2) ? true : undefined), { timeoutMs: 30_000, intervalMs: 20, what: 'a first renewal' });
    await cluster.workers[0]!.kill();
    expect((await versionsOf(batch)).filter((v) => v.generation === 2).length).toBeLessThan(batch.length);
    // The surviving worker takes over the killed one's workflow and activity tasks (after their timeouts).
    await waitForGeneration(batch, 2, 'every renewal, with one worker left');
    await cluster.restartWorker(0);
  });

  it('keeps the renewal timer when the Temporal server is SIGKILLed and restarted', async () => {
    const [id] = await request(1, { validity: 'PT30S' });
    await waitForGeneration([id!], 1, 'the first version');
    await cluster.killAndRestartTemporal();
    await waitForGeneration([id!], 2, 'the renewal after the restart', 90_000);
  });

  it('finishes renewals interrupted by Postgres being stopped and started', async () => {
    const batch = await request(4, { validity: 'P1D' });
    await waitForGeneration(batch, 1, 'the batch to be issued');
    for (const id of batch) await client.renew(id, 'postgres-outage');
    await cluster.stopPostgres();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    await cluster.startPostgres();
    await waitForGeneration(batch, 2, 'every renewal after Postgres came back', 180_000);
  });

  it('has, for every certificate, one active version per generation, no serial twice, no orphan key, one of its versions served', async () => {
    // Files first, the database after: a version is recorded before it is delivered, so every served serial is in it.
    const served = new Map<string, string>();
    for (const [index, id] of ids.entries()) {
      const { stdout } = await run('openssl', ['x509', '-in', join(deliveryRoot, `svc-${index}`, 'cert.pem'), '-noout', '-serial']);
      served.set(id, stdout.trim().toLowerCase());
    }
    const rows = await harness.db.select().from(certificates).where(inArray(certificates.id, ids));
    const versions = await versionsOf(ids);
    const keys = await harness.db.select().from(certificateKeys).where(inArray(certificateKeys.certificateId, ids));
    expect(rows).toHaveLength(ids.length);
    expect(new Set(versions.map((v) => v.serial)).size).toBe(versions.length);
    for (const row of rows) {
      const own = versions.filter((v) => v.certificateId === row.id).sort((a, b) => a.generation - b.generation);
      expect(own.map((v) => v.generation)).toEqual(own.map((_, index) => index + 1));
      expect(row.currentVersionId).toBe(own.at(-1)!.id);
      expect(own.filter((v) => v.status === 'active').map((v) => v.generation)).toEqual([own.length]);
      const ownKeys = keys.filter((key) => key.certificateId === row.id).map((key) => key.generation);
      expect(ownKeys.filter((generation) => generation > own.length + 1)).toEqual([]);
      // One of its own versions (the 30 s certificates keep renewing while this runs).
      expect(own.map((v) => `serial=${v.serial}`)).toContain(served.get(row.id));
    }
  });
});
