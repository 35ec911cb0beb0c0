/**
 * `npm run histories:record`: runs each workflow shape (lifecycle, CRL publication) on a real Temporal dev server and
 * real Postgres (both embedded, in a temp dir) and writes the event histories to test/histories/.
 * The replay tests run them through the current workflow code; re-record only when a shape is added,
 * never to make a replay failure go away (guard the change with patched() instead).
 * `npm run histories:record -- --only=acme` records only the ACME lifecycle shapes (the others' files stay untouched).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { createActivities } from '../activities/index.js';
import { ensureCaHierarchy } from '../activities/ca-bootstrap.js';
import { DestinationGuard } from '../activities/destination-guard.js';
import { IssuerStore } from '../activities/issuer-store.js';
import { EabSecret } from '../api/acme/eab.js';
import type { AcmeDeps } from '../api/acme/context.js';
import { createApp } from '../api/app.js';
import { workerSealingKey } from '../ca/destination-secrets.js';
import { LOOPBACK_RANGES } from '../core/destination-hosts.js';
import { createPool } from '../db/postgres-pool.js';
import { WORKFLOWS_PATH } from '../workflows/workflows-path.js';
import { createDatabase } from '../db/database.js';
import { AuditKey } from '../db/audit-chain.js';
import { randomBytes } from 'node:crypto';
import { applyMigrations } from '../db/migrate.js';
import { teams } from '../db/schema.js';
import { ensureBootstrapToken } from '../db/tokens.js';
import { ariCertIdOf, InProcessAcmeClient, versionOfLeaf } from '../test/support/acme-in-process.js';
import { startTlsService } from '../test/support/tls-service.js';
import { startEmbeddedPostgres } from '../devservices/embedded-postgres.js';
import { resolveTemporalCli } from '../devservices/temporal-cli.js';
import { startTemporalDevServer } from '../devservices/temporal-dev-server.js';
import { createSigningWorker } from '../activities/signing-worker.js';

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
    // A throwaway audit key: this run's audit log is never verified later.
    const db = createDatabase(pool, { auditKey: AuditKey.fromSecret(randomBytes(32)) });
    await ensureCaHierarchy(db, kek, { organization: 'Certflow Recorder', publicUrl: 'http://127.0.0.1:8080', now: new Date(), log: () => undefined });
    await ensureBootstrapToken(db, ADMIN);
    const connection = await Connection.connect({ address: temporal.address });
    const client = new Client({ connection });
    const deliveryRoot = join(temp, 'deliveries');
    // File deliveries create the directories below the root, never the root itself (host-files/real-directory.ts).
    await mkdir(deliveryRoot, { recursive: true });
    // The recorder's receivers and TLS services listen on loopback: allowed as an operator exception.
    const destinationRules = {
      services: [{ name: 'Postgres', host: '127.0.0.1', port: Number(new URL(postgres.url).port) }],
      allowedExceptions: [...LOOPBACK_RANGES],
      extraDenied: [],
    };
    const apiDeps: AcmeDeps = {
      db,
      temporal: client,
      taskQueue: TASK_QUEUE,
      now: () => new Date(),
      sealingPublicKey: workerSealingKey(kek).publicKey,
      temporalUiUrl: 'http://127.0.0.1:8233',
      fileDestinationRoot: deliveryRoot,
      destinationRules,
      checkReadiness: async () => ({ postgres: true, temporal: true }),
      // ACME for the ACME shapes (EAB keys, the in-process ACME server); no minValiditySeconds: only the schema's floor (15 s).
      acme: { eabSecret: EabSecret.fromBytes(randomBytes(32)), allowUnboundAccounts: false, validitySeconds: 7 * 86_400 },
    };
    const app = createApp(apiDeps);
    const workerConnection = await NativeConnection.connect({ address: temporal.address });
    const activities = createActivities({
      db,
      kek,
      issuers: new IssuerStore(db, kek, 'http://127.0.0.1:8080'),
      now: () => new Date(),
      fileDestinationRoot: deliveryRoot,
      destinationGuard: new DestinationGuard(destinationRules),
      temporal: client,
    });
    const worker = await Worker.create({ connection: workerConnection, taskQueue: TASK_QUEUE, workflowsPath: WORKFLOWS_PATH, activities });
    const signingWorker = await createSigningWorker({ connection: workerConnection, taskQueue: TASK_QUEUE, activities });

    const call = async (method: string, path: string, body?: unknown) => {
        const response = await app.request(path, {
          method,
          headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
        return (await response.json()) as Record<string, unknown>;
      };
      const teamPolicy = { allowedDomains: ['example.test'], maxValidity: 'P30D', destinationHosts: { cidrs: ['127.0.0.0/8'] } };
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
      /** A revocation is answered 202 and completes in the workflow: wait for it before saving a history. */
      const revoke = async (id: string, body: Record<string, unknown> = {}) => {
        await call('POST', `/v1/certificates/${id}/revoke`, body);
        await waitFor(`${id} revoked`, async () => (await state(id)).state === 'revoked');
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

    const recordPlatformShapes = async () => {
      // Shape 1: issue → deliver → renewNow → continueAsNew; and the next run: renew → revoke.
      const renewed = await request('renewed', { validity: 'P1D' });
      await waitFor('renewed active', async () => (await state(renewed.id)).state === 'active');
      const firstRun = (await client.workflow.getHandle(renewed.workflowId).describe()).runId;
      await call('POST', `/v1/certificates/${renewed.id}/renew`, { reason: 'recording' });
      await waitFor('generation 2', async () => (await state(renewed.id)).currentVersion?.generation === 2 && (await state(renewed.id)).state === 'active');
      await save('lifecycle-renew-now-continue-as-new', renewed.workflowId, firstRun);
      await revoke(renewed.id, { reason: 'superseded' });
      await save('lifecycle-renewal-run-revoked', renewed.workflowId);

      // Shape 2: the renewal timer fires by itself (30 s lifetime).
      const timed = await request('timed', { validity: 'PT30S' });
      await waitFor('timed active', async () => (await state(timed.id)).state === 'active');
      const timedRun = (await client.workflow.getHandle(timed.workflowId).describe()).runId;
      await waitFor('timer renewal', async () => ((await state(timed.id)).currentVersion?.generation ?? 0) >= 2, 60_000);
      await save('lifecycle-timer-renewal', timed.workflowId, timedRun);
      await revoke(timed.id, {});

      // Shape 3: a business error (the policy changed after the request was accepted) → failed → revoked.
      await waitFor('failed state', async () => (await state(failing.id)).state === 'failed');
      await revoke(failing.id, { reason: 'cessationOfOperation' });
      await save('lifecycle-issue-failed-then-revoked', failing.workflowId);

      // Shape 4: delivery keeps failing (the directory is a file) → workflow-level backoff → revoked.
      await mkdir(deliveryRoot, { recursive: true });
      await writeFile(join(deliveryRoot, 'blocked'), 'not a directory');
      const blocked = await request('blocked', { validity: 'P1D' });
      await waitFor('delivery backoff', async () => (await state(blocked.id)).pendingStep === 'retry-backoff', 90_000);
      await revoke(blocked.id, {});
      await save('lifecycle-delivery-backoff-then-revoked', blocked.workflowId);

      // Shape 4b: the same backoff, the cause is fixed, and `renew` retries the delivery at once.
      await writeFile(join(deliveryRoot, 'unblocked'), 'not a directory');
      const unblocked = await request('unblocked', { validity: 'P1D' });
      await waitFor('delivery backoff', async () => (await state(unblocked.id)).pendingStep === 'retry-backoff', 90_000);
      await rm(join(deliveryRoot, 'unblocked'));
      await call('POST', `/v1/certificates/${unblocked.id}/renew`, { reason: 'the directory is fixed' });
      await waitFor('unblocked active', async () => (await state(unblocked.id)).state === 'active', 20_000);
      await save('lifecycle-delivery-backoff-renew-retries-now', unblocked.workflowId);

      // Shape 6: an approval granted → issue → rollout → renewNow → continueAsNew.
      const approvals = (await call('POST', '/v1/teams', {
        name: 'recorder-approvals',
        policy: { ...teamPolicy, allowWildcards: true, approval: { wildcards: true, deadline: 'PT6S', escalateAfter: 'PT2S' } },
      })) as { id: string };
      const approver = (await call('POST', `/v1/teams/${approvals.id}/tokens`, { role: 'approver' })) as { token: string };
      const decide = async (id: string, decision: 'approve' | 'reject') => {
        const response = await app.request(`/v1/certificates/${id}/${decision}`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${approver.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ reason: 'recording' }),
        });
        if (response.status !== 200) throw new Error(`${decision} ${id}: ${response.status} ${await response.text()}`);
      };
      const wildcard = async (name: string) =>
        (await call('POST', '/v1/certificates', { team: 'recorder-approvals', dnsNames: [`*.${name}.example.test`], validity: 'P1D', destinations: [] })) as {
          id: string;
          workflowId: string;
        };
      const granted = await wildcard('granted');
      await waitFor('granted awaiting approval', async () => (await state(granted.id)).state === 'awaiting_approval');
      await decide(granted.id, 'approve');
      await waitFor('granted active', async () => (await state(granted.id)).state === 'active');
      const grantedRun = (await client.workflow.getHandle(granted.workflowId).describe()).runId;
      await call('POST', `/v1/certificates/${granted.id}/renew`, { reason: 'recording' });
      await waitFor('granted generation 2', async () => (await state(granted.id)).currentVersion?.generation === 2);
      await save('lifecycle-approval-granted-then-renewed', granted.workflowId, grantedRun);

      // Shape 7: an approval rejected; shape 8: no decision → escalation → approval_expired.
      const rejected = await wildcard('rejected');
      await waitFor('rejected awaiting approval', async () => (await state(rejected.id)).state === 'awaiting_approval');
      await decide(rejected.id, 'reject');
      await client.workflow.getHandle(rejected.workflowId).result();
      await save('lifecycle-approval-rejected', rejected.workflowId);
      // Shape 8b: revoked while awaiting approval: the request is closed, nothing is issued.
      const unwanted = await wildcard('unwanted');
      await waitFor('unwanted awaiting approval', async () => (await state(unwanted.id)).state === 'awaiting_approval');
      await revoke(unwanted.id, { reason: 'cessationOfOperation' });
      await save('lifecycle-revoked-awaiting-approval', unwanted.workflowId);
      const expired = await wildcard('expired');
      await client.workflow.getHandle(expired.workflowId).result();
      await save('lifecycle-approval-escalated-then-expired', expired.workflowId);

      // Shape 9: a webhook destination, renewed by renewNow.
      const receiver = createServer((incoming, response) => {
        incoming.resume();
        incoming.on('end', () => response.writeHead(204).end());
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const hooked = (await call('POST', '/v1/certificates', {
        team: 'recorder',
        dnsNames: ['hook.example.test'],
        validity: 'P1D',
        destinations: [{ type: 'webhook', url: receiverUrl, secret: 'recording-secret-0123456789abcdef' }],
      })) as { id: string; workflowId: string };
      await waitFor('hooked active', async () => (await state(hooked.id)).state === 'active');
      const hookedRun = (await client.workflow.getHandle(hooked.workflowId).describe()).runId;
      await call('POST', `/v1/certificates/${hooked.id}/renew`, { reason: 'recording' });
      await waitFor('hooked generation 2', async () => (await state(hooked.id)).currentVersion?.generation === 2);
      await save('lifecycle-webhook-renewed', hooked.workflowId, hookedRun);
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
      // Its receiver is gone: revoke it so the later shapes (bulk, drill) do not wait for it.
      await revoke(hooked.id, {});

      // Shape 10: verified on a TLS endpoint, then a renewal the endpoint does not pick up → rolled back
      // → rollout_failed → retryRollout → verified (the second run's history).
      const service = await startTlsService(join(deliveryRoot, 'served'));
      const served = await request('served', {
        dnsNames: ['served.example.test'],
        validity: 'P1D',
        destinations: [{ type: 'file', directory: 'served', verify: { endpoints: [{ host: '127.0.0.1', port: service.port }], timeout: 'PT4S' } }],
      });
      await waitFor('served active', async () => (await state(served.id)).state === 'active');
      const servedRun = (await client.workflow.getHandle(served.workflowId).describe()).runId;
      service.freeze();
      await call('POST', `/v1/certificates/${served.id}/renew`, { reason: 'recording' });
      await save('lifecycle-verified-then-renewed', served.workflowId, servedRun);
      await waitFor('rollout_failed', async () => (await state(served.id)).state === 'rollout_failed', 60_000);
      service.resume();
      await call('POST', `/v1/certificates/${served.id}/retry-rollout`);
      await waitFor('served recovered', async () => (await state(served.id)).state === 'active' && (await state(served.id)).currentVersion?.generation === 2, 60_000);
      await save('lifecycle-rolled-back-then-retried', served.workflowId);
      await service.close();
      await revoke(served.id, {});

      // Shape 10b: a rollout waiting on an endpoint that never serves the version, cancelled by a revocation.
      const silent = await startTlsService(join(deliveryRoot, 'never-served'));
      const waiting = await request('waiting', {
        validity: 'P1D',
        destinations: [{ type: 'file', directory: 'waiting', verify: { endpoints: [{ host: '127.0.0.1', port: silent.port }], timeout: 'PT1H' } }],
      });
      await waitFor('waiting on verification', async () => (await state(waiting.id)).pendingStep === 'verify');
      await revoke(waiting.id, { reason: 'keyCompromise' });
      await save('lifecycle-revoked-while-verifying', waiting.workflowId);
      await silent.close();

      // Shape 10c: the certificate's run was terminated; a revocation starts a run that only revokes.
      const orphaned = await request('orphaned', { validity: 'P1D' });
      await waitFor('orphaned active', async () => (await state(orphaned.id)).state === 'active');
      await client.workflow.getHandle(orphaned.workflowId).terminate('recording a closed run');
      await revoke(orphaned.id, { reason: 'cessationOfOperation' });
      await save('lifecycle-revoked-after-run-closed', orphaned.workflowId);

      // Shape 11: an agent makes the key (CSR wait), deploys and reports; renewNow → continueAsNew.
      const httpServer = await new Promise<ReturnType<typeof serve>>((resolve) => {
        const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
      });
      const agentHome = join(temp, 'agent-host');
      await mkdir(agentHome, { recursive: true });
      const registered = (await call('POST', '/v1/agents', { team: 'recorder', name: 'recorder-host' })) as { id: string; token: string };
      await writeFile(
        join(agentHome, 'agent.json'),
        JSON.stringify({
          apiUrl: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`,
          token: registered.token,
          stateDirectory: 'state',
          pollInterval: 0.3,
          targets: { web: { directory: 'tls/web' } },
        }),
      );
      const agentProcess = spawn(process.execPath, ['--import', 'tsx', 'cmd/agent.ts', '--config', join(agentHome, 'agent.json')], {
        cwd: fileURLToPath(new URL('../', import.meta.url)),
        stdio: 'ignore',
      });
      try {
        const agentCertificate = (await call('POST', '/v1/certificates', {
          team: 'recorder',
          dnsNames: ['agent.example.test'],
          validity: 'P1D',
          destinations: [{ type: 'agent', agentId: registered.id, target: 'web', reportTimeout: 60 }],
        })) as { id: string; workflowId: string };
        await waitFor('agent certificate active', async () => (await state(agentCertificate.id)).state === 'active');
        const agentRun = (await client.workflow.getHandle(agentCertificate.workflowId).describe()).runId;
        await call('POST', `/v1/certificates/${agentCertificate.id}/renew`, { reason: 'recording' });
        await waitFor('agent generation 2', async () => (await state(agentCertificate.id)).currentVersion?.generation === 2 && (await state(agentCertificate.id)).state === 'active');
        await save('lifecycle-agent-key-renewed', agentCertificate.workflowId, agentRun);
        await revoke(agentCertificate.id, {});
      } finally {
        agentProcess.kill('SIGTERM');
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      }

      // Shape 12: a bulk reissue over a team, superseded versions revoked; and a lifecycle run that reported to it.
      await call('POST', '/v1/teams', { name: 'recorder-bulk', policy: teamPolicy });
      const bulkCertificates = [];
      for (const name of ['bulk-a', 'bulk-b', 'bulk-c']) bulkCertificates.push(await request(name, { validity: 'P1D' }, 'recorder-bulk'));
      for (const certificate of bulkCertificates) await waitFor(`${certificate.id} active`, async () => (await state(certificate.id)).state === 'active');
      const bulkRun = async (body: Record<string, unknown>) => (await call('POST', '/v1/bulk-reissues', body)) as { id: string; workflowId: string };
      const bulkState = async (id: string) => ((await call('GET', `/v1/bulk-reissues/${id}`)) as { state: string }).state;
      const completed = await bulkRun({ selector: { teams: ['recorder-bulk'] }, reason: 'recording', revokeSuperseded: true, maxConcurrent: 2, maxPerSecond: 5 });
      await waitFor('bulk completed', async () => (await bulkState(completed.id)) === 'completed', 60_000);
      await save('bulk-reissue-completed', completed.workflowId);
      await save('lifecycle-bulk-renewal-reported', bulkCertificates[0]!.workflowId);

      // Shape 13: paused, resumed, then cancelled while renewals are under way (one at a time, one per second).
      const steered = await bulkRun({ selector: { teams: ['recorder-bulk'] }, reason: 'recording', maxConcurrent: 1, maxPerSecond: 1 });
      await call('POST', `/v1/bulk-reissues/${steered.id}/pause`);
      await call('POST', `/v1/bulk-reissues/${steered.id}/resume`);
      await call('POST', `/v1/bulk-reissues/${steered.id}/cancel`);
      await waitFor('bulk cancelled', async () => (await bulkState(steered.id)) === 'cancelled', 60_000);
      await save('bulk-reissue-paused-resumed-cancelled', steered.workflowId);

      // Shape 14: the issuer compromise drill on the active intermediate (everything above moves to its successor).
      const allIssuers = (await call('GET', '/v1/issuers')) as unknown as { id: string; kind: string; status: string }[];
      const compromised = allIssuers.find((issuer) => issuer.kind === 'intermediate' && issuer.status === 'active')!;
      const drill = (await call('POST', `/v1/issuers/${compromised.id}/compromise`, { reason: 'recording the drill' })) as { workflowId: string };
      await waitFor('drill completed', async () => ((await call('GET', `/v1/issuers/${compromised.id}/compromise`)) as { state: string }).state === 'completed', 120_000);
      await save('issuer-compromise-drill', drill.workflowId);

      // Shape 5: the run the `crl-publication` Schedule starts: CRL + OCSP refresh for root and intermediate.
      await client.workflow.execute('crlPublication', { taskQueue: TASK_QUEUE, workflowId: 'crl-publication' });
      await save('crl-publication', 'crl-publication');
    };

    // ACME certificates (keySource "acme"): issued from an order's CSR, then renewed only by their client.
    // Recorded after the platform shapes, so that the bulk operations and the drill above never select them.
    const recordAcmeShapes = async () => {
      const acmeTeam = async (name: string, maxValidity: string) =>
        (await call('POST', '/v1/teams', { name, policy: { allowedDomains: ['example.test'], maxValidity, acme: { preauthorized: true } } })) as { id: string };
      const acmeClient = async (teamId: string) => InProcessAcmeClient.register({ deps: apiDeps, rest: app, teamId, token: ADMIN });
      const client7d = await acmeClient((await acmeTeam('recorder-acme', 'P30D')).id);
      /** A certificate the client orders; resolves once its lifecycle waits for the client's renewal. */
      const obtained = async (acme: InProcessAcmeClient, name: string) => {
        const names = [`${name}.example.test`];
        const leaf = await acme.obtain(names);
        const { certificateId } = await versionOfLeaf(db, leaf.leafPem);
        const workflowId = ((await call('GET', `/v1/certificates/${certificateId}`)) as { workflowId: string }).workflowId;
        await waitFor(`${name} waiting for its client`, async () => {
          const view = await state(certificateId);
          return view.state === 'active' && view.pendingStep === 'wait-for-renewal';
        });
        const runId = (await client.workflow.getHandle(workflowId).describe()).runId;
        return { names, leaf, certificateId, workflowId, runId };
      };
      /** The client's replacement order (RFC 9773 `replaces`); resolves once generation 2 is active. */
      const renewedByClient = async (acme: InProcessAcmeClient, certificate: Awaited<ReturnType<typeof obtained>>) => {
        await acme.obtain(certificate.names, { replaces: ariCertIdOf(certificate.leaf.leafPem) });
        await waitFor(`${certificate.certificateId} generation 2 active`, async () => {
          const view = await state(certificate.certificateId);
          return view.state === 'active' && view.currentVersion?.generation === 2;
        });
      };

      // Shape A1: issued, the client's replacement order finalized → clientRenewed → continueAsNew.
      const renewed = await obtained(client7d, 'acme-renewed');
      await renewedByClient(client7d, renewed);
      await save('lifecycle-acme-client-renewed', renewed.workflowId, renewed.runId);

      // Shape A2: a bulk reissue asks for a renewal → requestClientRenewal (the ARI window moves into the
      // past); the client follows ARI and replaces it → the next run issues generation 2 and reports to the bulk operation.
      const requested = await obtained(client7d, 'acme-requested');
      const bulk = (await call('POST', '/v1/bulk-reissues', { selector: { certificateIds: [requested.certificateId] }, reason: 'recording' })) as { id: string };
      const certId = ariCertIdOf(requested.leaf.leafPem);
      await waitFor('the client asked to renew (ARI)', async () => {
        const info = (await (await client7d.get(`/acme/renewal-info/${certId}`)).json()) as { explanationURL?: string };
        return info.explanationURL !== undefined;
      });
      await renewedByClient(client7d, requested);
      await waitFor('bulk completed', async () => ((await call('GET', `/v1/bulk-reissues/${bulk.id}`)) as { state: string }).state === 'completed', 60_000);
      await save('lifecycle-acme-renewal-requested', requested.workflowId, requested.runId);
      await save('lifecycle-acme-bulk-renewal-reported', requested.workflowId);

      // Shape A3: a 30 s validity (the team's maxValidity; the recorder's API has only the schema's 15 s floor):
      // the ARI window ends ~25 s after issuance → renewal_overdue → then the client renews.
      const client30s = await acmeClient((await acmeTeam('recorder-acme-short', 'PT30S')).id);
      const overdue = await obtained(client30s, 'acme-overdue');
      await waitFor('renewal_overdue', async () => (await state(overdue.certificateId)).state === 'renewal_overdue', 60_000);
      await renewedByClient(client30s, overdue);
      await save('lifecycle-acme-overdue', overdue.workflowId, overdue.runId);
    };

    const only = process.argv.slice(2).find((argument) => argument.startsWith('--only='))?.slice('--only='.length);
    if (only !== undefined && only !== 'acme') throw new Error(`--only=${only}: the only group that can be recorded alone is "acme"`);
    await signingWorker.runUntil(() =>
      worker.runUntil(async () => {
        if (only !== 'acme') await recordPlatformShapes();
        await recordAcmeShapes();
      }),
    );
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
