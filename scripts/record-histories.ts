/**
 * `npm run histories:record`: runs each workflow shape (lifecycle, CRL publication) on a real Temporal dev server and
 * real Postgres (both embedded, in a temp dir) and writes the event histories to test/histories/.
 * The replay tests run them through the current workflow code; re-record only when a shape is added,
 * never to make a replay failure go away (guard the change with patched() instead).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { createActivities } from '../activities/index.js';
import { ensureCaHierarchy } from '../activities/ca-bootstrap.js';
import { IssuerStore } from '../activities/issuer-store.js';
import { createApp } from '../api/app.js';
import { deriveSecretsKey } from '../ca/key-encryption.js';
import { createPool } from '../cmd/postgres-pool.js';
import { WORKFLOWS_PATH } from '../cmd/start-worker.js';
import { createDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrate.js';
import { teams } from '../db/schema.js';
import { ensureBootstrapToken } from '../db/tokens.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { resolveTemporalCli } from './temporal-cli.js';
import { startTemporalDevServer } from './temporal-dev-server.js';

const run = promisify(execFile);
const OUT_DIR = fileURLToPath(new URL('../test/histories/', import.meta.url));
const ADMIN = 'cft_bootstrap_history-recorder';
const TASK_QUEUE = 'record-histories';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const temp = await mkdtemp(join(tmpdir(), 'certflow-histories-'));
  const { chmod } = await import('node:fs/promises');
  await chmod(temp, 0o755);
  const postgres = await startEmbeddedPostgres({ dataDir: join(temp, 'postgres') });
  const temporal = await startTemporalDevServer({ dbFile: join(temp, 'temporal.db'), uiPort: null });
  const pool = createPool(postgres.url, console.error);
  const cli = await resolveTemporalCli();
  if (!cli) throw new Error('recording histories needs the Temporal CLI: run `npm run temporal:install`');
  const kek = Buffer.alloc(32, 7);
  try {
    await applyMigrations(pool);
    const db = createDatabase(pool);
    await ensureCaHierarchy(db, kek, { organization: 'Certflow Recorder', publicUrl: 'http://127.0.0.1:8080', now: new Date(), log: () => undefined });
    await ensureBootstrapToken(db, ADMIN);
    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection });
    const app = createApp({
      db,
      temporal: client,
      taskQueue: TASK_QUEUE,
      now: () => new Date(),
      secretsKey: deriveSecretsKey(kek),
      temporalUiUrl: 'http://127.0.0.1:8233',
      checkReadiness: async () => ({ postgres: true, temporal: true }),
    });
    const deliveryRoot = join(temp, 'deliveries');
    const workerConnection = await NativeConnection.connect({ address: temporal.address });
    const worker = await Worker.create({
      connection: workerConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities({ db, kek, issuers: new IssuerStore(db, kek, 'http://127.0.0.1:8080'), now: () => new Date(), fileDestinationRoot: deliveryRoot }),
    });

    const call = async (method: string, path: string, body?: unknown) => {
        const response = await app.request(path, {
          method,
          headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
        return (await response.json()) as Record<string, unknown>;
      };
      const teamPolicy = { allowedDomains: ['example.test'], maxValidity: 'P30D' };
      await call('POST', '/v1/teams', { name: 'recorder', policy: teamPolicy });
      await call('POST', '/v1/teams', { name: 'recorder-policy-change', policy: teamPolicy });
      const request = async (name: string, extra: Record<string, unknown>, team = 'recorder') =>
        (await call('POST', '/v1/certificates', { team, commonName: `${name}.example.test`, destinations: [{ type: 'file', directory: name }], ...extra })) as {
          id: string;
          workflowId: string;
        };
      const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 60_000) => {
        const deadline = Date.now() + timeoutMs;
        while (!(await check())) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      };
      const state = async (id: string) => (await call('GET', `/v1/certificates/${id}`)) as { state: string; currentVersion: { generation: number } | null; pendingStep: string | null };
      const save = async (name: string, workflowId: string, runId?: string) => {
        // The CLI writes the proto3 JSON form that historyFromJSON reads back.
        const args = ['workflow', 'show', '--address', temporal.address, '--workflow-id', workflowId, '--output', 'json'];
        const { stdout } = await run(cli, runId ? [...args, '--run-id', runId] : args, { maxBuffer: 64 * 1024 * 1024 });
        await writeFile(join(OUT_DIR, `${name}.json`), stdout);
        console.log(`recorded ${name} (${(JSON.parse(stdout) as { events: unknown[] }).events.length} events)`);
      };

      // Requested before any worker runs, then the team's policy changes: issuance must refuse it.
      const [teamRow] = await db.select().from(teams).where(eq(teams.name, 'recorder-policy-change'));
      const failing = await request('failing', { validity: 'P1D', destinations: [] }, 'recorder-policy-change');
      await db
        .update(teams)
        .set({ policy: { ...teamRow!.policy, allowedDomains: ['elsewhere.test'] } })
        .where(eq(teams.name, 'recorder-policy-change'));

    await worker.runUntil(async () => {
      // Shape 1: issue → deliver → renewNow → continueAsNew; and the next run: renew → revoke.
      const renewed = await request('renewed', { validity: 'P1D' });
      await waitFor('renewed active', async () => (await state(renewed.id)).state === 'active');
      const firstRun = (await client.workflow.getHandle(renewed.workflowId).describe()).runId;
      await call('POST', `/v1/certificates/${renewed.id}/renew`, { reason: 'recording' });
      await waitFor('generation 2', async () => (await state(renewed.id)).currentVersion?.generation === 2 && (await state(renewed.id)).state === 'active');
      await save('lifecycle-renew-now-continue-as-new', renewed.workflowId, firstRun);
      await call('POST', `/v1/certificates/${renewed.id}/revoke`, { reason: 'superseded' });
      await save('lifecycle-renewal-run-revoked', renewed.workflowId);

      // Shape 2: the renewal timer fires by itself (30 s lifetime).
      const timed = await request('timed', { validity: 'PT30S' });
      await waitFor('timed active', async () => (await state(timed.id)).state === 'active');
      const timedRun = (await client.workflow.getHandle(timed.workflowId).describe()).runId;
      await waitFor('timer renewal', async () => ((await state(timed.id)).currentVersion?.generation ?? 0) >= 2, 60_000);
      await save('lifecycle-timer-renewal', timed.workflowId, timedRun);
      await call('POST', `/v1/certificates/${timed.id}/revoke`, {});

      // Shape 3: a business error (the policy changed after the request was accepted) → failed → revoked.
      await waitFor('failed state', async () => (await state(failing.id)).state === 'failed');
      await call('POST', `/v1/certificates/${failing.id}/revoke`, { reason: 'cessationOfOperation' });
      await save('lifecycle-issue-failed-then-revoked', failing.workflowId);

      // Shape 4: delivery keeps failing (the directory is a file) → workflow-level backoff → revoked.
      await mkdir(deliveryRoot, { recursive: true });
      await writeFile(join(deliveryRoot, 'blocked'), 'not a directory');
      const blocked = await request('blocked', { validity: 'P1D' });
      await waitFor('delivery backoff', async () => (await state(blocked.id)).pendingStep === 'retry-backoff', 90_000);
      await call('POST', `/v1/certificates/${blocked.id}/revoke`, {});
      await save('lifecycle-delivery-backoff-then-revoked', blocked.workflowId);

      // Shape 5: the run the `crl-publication` Schedule starts: CRL + OCSP refresh for root and intermediate.
      await client.workflow.execute('crlPublication', { taskQueue: TASK_QUEUE, workflowId: 'crl-publication' });
      await save('crl-publication', 'crl-publication');
    });
    await workerConnection.close();
    await connection.close();
  } finally {
    await pool.end();
    await temporal.stop();
    await postgres.stop();
    await rm(temp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
