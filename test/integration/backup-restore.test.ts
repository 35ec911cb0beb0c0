/**
 * Backup and restore (docs/operations.md §11): a pg_dump taken mid-run, then renewals, a revocation
 * and new certificates, then the dump restored while Temporal kept running, as the runbook says
 * (workers stopped, database dropped and restored, workers started, `certflow reconcile`). Reconcile
 * must repair every difference without signing anything twice, and find nothing the second time.
 *
 * Its own Postgres (Debian's postgresql-15, whose pg_dump/pg_restore match the server; the embedded
 * package ships no pg_dump), so the restore cannot disturb other test files.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eq, isNotNull } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { publishCrl } from '../../activities/publish-crl.js';
import { reconcilePlatform } from '../../activities/reconcile.js';
import { readLifecycleHistory } from '../../activities/reconcile-history.js';
import { x509 } from '../../ca/x509.js';
import { lifecycleWorkflowId, statusQuery } from '../../contracts/lifecycle-messages.js';
import type { AuditCheckpoint } from '../../db/audit-chain.js';
import { checkpointAuditLog, verifyAuditLogIn } from '../../db/audit.js';
import { certificates, certificateVersions, issuerCrls, ocspResponses } from '../../db/schema.js';
import { ensureAptPackages } from '../../devservices/apt-packages.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../devservices/embedded-postgres.js';
import { runAuditCli } from '../../cmd/audit-cli.js';
import { runReconcileCli } from '../../cmd/reconcile-cli.js';
import { activityDeps, childWorkerEnvironment, createHarness, TEST_PUBLIC_URL, createTeamWithTokens, eventually, startInProcessWorker, type Harness, type InProcessWorker, type Team } from '../support/harness.js';
import { certificatesAs, type CertificateClient } from '../support/integration-suite.js';
import { revokeAndWait } from '../support/revoke.js';
import { access } from 'node:fs/promises';

const run = promisify(execFile);
const PG_BIN = '/usr/lib/postgresql/15/bin';

async function postgres15(): Promise<string> {
  // The server and its client tools from one Debian package, so pg_dump matches the server it dumps.
  return ensureAptPackages<string>({
    packages: ['postgresql-15'],
    what: 'Postgres 15 server and pg_dump/pg_restore for the backup-and-restore test',
    lockName: 'apt-postgresql-15.lock',
    env: process.env,
    log: (line) => console.log(line),
    find: async () => {
      for (const tool of ['initdb', 'postgres', 'pg_dump', 'pg_restore']) {
        if (!(await access(join(PG_BIN, tool)).then(() => true, () => false))) return { missing: `${PG_BIN}/${tool}` };
      }
      return { found: PG_BIN };
    },
  });
}

describe('backup and restore: a Postgres dump restored mid-run, then certflow reconcile', () => {
  let dir: string;
  let server: EmbeddedPostgresHandle;
  let harness: Harness;
  let worker: InProcessWorker | undefined;
  let team: Team;
  let requester: CertificateClient;

  beforeAll(async () => {
    const bin = await postgres15();
    dir = await mkdtemp(join(inject('tempDir'), 'backup-restore-'));
    server = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), binaries: { initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') } });
    harness = await createHarness('restore', { databaseUrl: server.url });
    worker = await startInProcessWorker(harness);
    team = await createTeamWithTokens(harness);
    requester = certificatesAs(harness.app, team.requester);
  }, 600_000);

  afterAll(async () => {
    await worker?.stop();
    await harness?.close();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const status = (id: string) => harness.client.workflow.getHandle(lifecycleWorkflowId(id)).query(statusQuery);
  const create = async (name: string) => (await requester.create({ team: team.teamName, commonName: `${name}.example.test`, dnsNames: [`${name}.example.test`], validity: 'P1D' })).id;
  const active = (id: string, generation: number) =>
    eventually(async () => {
      const current = await status(id);
      return current.state === 'active' && current.currentVersion?.generation === generation ? current : undefined;
    }, { timeoutMs: 60_000, what: `${id} generation ${generation} active` });

  async function cli(command: (args: string[], io: { out: (line: string) => void; err: (line: string) => void; env: NodeJS.ProcessEnv }) => Promise<number>, args: string[], env: NodeJS.ProcessEnv) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await command(args, { out: (line) => out.push(line), err: (line) => err.push(line), env });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  /** Every difference between a certificate's row and its workflow: what reconcile must leave at none. */
  async function differences(ids: string[]): Promise<string[]> {
    const found: string[] = [];
    for (const id of ids) {
      const wf = await status(id);
      const [row] = await harness.db.select().from(certificates).where(eq(certificates.id, id));
      const [current] = row?.currentVersionId ? await harness.db.select().from(certificateVersions).where(eq(certificateVersions.id, row.currentVersionId)) : [];
      if (!row) found.push(`${id}: no row, workflow ${wf.state}`);
      else if ((row.state === 'revoked') !== (wf.state === 'revoked')) found.push(`${id}: row ${row.state}, workflow ${wf.state}`);
      else if (current?.serial !== wf.currentVersion?.serial) found.push(`${id}: row serial ${current?.serial}, workflow serial ${wf.currentVersion?.serial}`);
    }
    return found;
  }

  /** The runbook's restore: workers stopped, the database dropped and restored from `dump`, workers started. */
  async function restoreFrom(dump: string): Promise<void> {
    await worker!.stop();
    worker = undefined;
    const admin = new pg.Client({ connectionString: Object.assign(new URL(server.url), { pathname: '/postgres' }).toString() });
    await admin.connect();
    try {
      await admin.query('drop database certflow with (force)');
      await admin.query('create database certflow');
    } finally {
      await admin.end();
    }
    await run(join(PG_BIN, 'pg_restore'), ['--exit-on-error', '--no-owner', `--dbname=${server.url}`, dump]);
    worker = await startInProcessWorker(harness);
  }

  it('reconciles every difference, signs nothing twice, and audit verify reports the restore', { timeout: 600_000 }, async () => {
    const renewed = await create('renewed');
    const revoked = await create('revoked');
    const untouched = await create('untouched');
    for (const id of [renewed, revoked, untouched]) await active(id, 1);

    // The backup, taken while the platform runs (pg_dump's snapshot is consistent; nothing is paused).
    const dump = join(dir, 'certflow.dump');
    await run(join(PG_BIN, 'pg_dump'), ['--format=custom', `--file=${dump}`, server.url]);

    await requester.renew(renewed, 'after the backup');
    await active(renewed, 2);
    await revokeAndWait(harness.app, revoked, team.requester, 'keyCompromise');
    const late = await create('late');
    await active(late, 1);
    // The worker copies each checkpoint outside the database (CERTFLOW_AUDIT_CHECKPOINT_FILE); this is that copy.
    const outside: AuditCheckpoint[] = [];
    await checkpointAuditLog(harness.db, new Date(), { copy: async (checkpoint) => void outside.push(checkpoint) });
    expect(outside).toHaveLength(1);
    const ids = [renewed, revoked, untouched, late];
    // The hourly CRL publications of the hours since the backup.
    const issuerId = (await harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, renewed)))[0]!.issuerId!;
    for (let hour = 0; hour < 10; hour++) await publishCrl(activityDeps(harness), { issuerId });
    const crlNumbersPublished = await harness.db.select({ issuerId: issuerCrls.issuerId, crlNumber: issuerCrls.crlNumber }).from(issuerCrls);

    // The runbook: stop the workers (and APIs), restore the database, start the workers, reconcile.
    await restoreFrom(dump);

    // Without reconcile the database and the workflows disagree (the renewal, the revocation, the late certificate).
    const before = await differences(ids);
    expect(before.length, before.join('\n')).toBe(3);
    // The inventory sweep, run now, must not restart the revoked certificate's closed lifecycle on the database's word.
    const sweep = await harness.client.workflow.execute('inventorySweep', { taskQueue: harness.taskQueue, workflowId: `sweep-${revoked}`, args: [{}] });
    expect(sweep).toMatchObject({ restarted: 0, alerted: 1 });
    expect((await harness.client.workflow.getHandle(lifecycleWorkflowId(revoked)).describe()).status.name).toBe('COMPLETED');
    const tampered = await verifyAuditLogIn(harness.db, outside);
    expect(tampered.ok).toBe(false);

    const deps = activityDeps(harness);
    const first = await reconcilePlatform(deps, { taskQueue: harness.taskQueue, externalCheckpoints: outside });
    const actions = first.findings.map((finding) => `${finding.certificateId ?? '-'} ${finding.action}`).sort();
    expect(actions, JSON.stringify(first.findings, null, 2)).toEqual(
      [`- audit_restored`, `- crl_renumbered`, `${late} end_workflow`, `${late} recreate_revoked`, `${renewed} recover_versions`, `${revoked} record_revocation`].sort(),
    );

    // The late certificate is recorded and revoked, its workflow ended; everything else matches its workflow.
    const lateStatus = await harness.client.workflow.getHandle(lifecycleWorkflowId(late)).describe();
    expect(lateStatus.status.name).toBe('TERMINATED');
    expect(await differences([renewed, revoked, untouched])).toEqual([]);
    const [lateRow] = await harness.db.select().from(certificates).where(eq(certificates.id, late));
    expect(lateRow?.state).toBe('revoked');

    // A revocation wins: the revoked certificate (and the late one) are revoked in the database, in OCSP and on the CRL.
    const signed = await harness.db.select().from(certificateVersions).where(isNotNull(certificateVersions.issuerId));
    const revokedSerials = signed.filter((version) => version.certificateId === revoked || version.certificateId === late).map((version) => version.serial);
    expect(revokedSerials).toHaveLength(2);
    for (const version of signed.filter((candidate) => revokedSerials.includes(candidate.serial))) {
      expect(version.status).toBe('revoked');
      const ocsp = await harness.db.select().from(ocspResponses).where(eq(ocspResponses.serial, version.serial));
      expect(ocsp.length).toBeGreaterThan(0);
      expect(ocsp.every((response) => response.certStatus === 'revoked')).toBe(true);
    }
    const [crl] = await harness.db.select().from(issuerCrls).where(eq(issuerCrls.issuerId, signed[0]!.issuerId!));
    const crlSerials = new x509.X509Crl(new Uint8Array(crl!.crlDer)).entries.map((entry) => entry.serialNumber.toLowerCase().replace(/^0+/, ''));
    for (const serial of revokedSerials) expect(crlSerials).toContain(serial.toLowerCase().replace(/^0+/, ''));
    // No CRL number published before the restore is published again with other contents.
    for (const published of crlNumbersPublished) {
      const [now] = await harness.db.select().from(issuerCrls).where(eq(issuerCrls.issuerId, published.issuerId));
      expect(now!.crlNumber).toBeGreaterThan(published.crlNumber);
    }
    const [revokedVersion] = signed.filter((version) => version.certificateId === revoked);
    expect(revokedVersion?.revocationReason).toBe('keyCompromise');

    // Nothing signed twice: every certificate the workflows signed is recorded once, and nothing else is.
    const signedByWorkflows: string[] = [];
    for (const id of ids) signedByWorkflows.push(...[...(await readLifecycleHistory(harness.client, lifecycleWorkflowId(id), 1)).versions.values()].map((version) => version.serial));
    expect(new Set(signed.map((version) => version.serial)).size).toBe(signed.length);
    expect(signed.map((version) => version.serial).sort()).toEqual(signedByWorkflows.sort());
    expect(signed).toHaveLength(5);

    // Idempotent: the second run, through the operator's command, finds nothing.
    const checkpointFile = join(dir, 'audit-checkpoints.jsonl');
    await writeFile(checkpointFile, outside.map((checkpoint) => `${JSON.stringify({ ...checkpoint, at: checkpoint.at.toISOString() })}\n`).join(''));
    const env = childWorkerEnvironment(harness, { CERTFLOW_PUBLIC_URL: TEST_PUBLIC_URL });
    const second = await cli(runReconcileCli, ['--checkpoints', checkpointFile], env);
    expect(second, second.err).toMatchObject({ code: 0 });
    expect(second.out).toMatch(/^reconcile: nothing to repair; checked 2 certificates and 4 lifecycle workflows$/); // the two not revoked, and every lifecycle

    // audit verify: the gap behind the outside checkpoint is a restore, said so, not tampering.
    const verification = await verifyAuditLogIn(harness.db, outside);
    expect(verification.problems).toEqual([]);
    expect(verification.ok).toBe(true);
    expect(verification.restores).toHaveLength(1);
    expect(verification.restores[0]?.checkpointSeq).toBe(outside[0]!.seq);
    const verify = await cli(runAuditCli, ['verify', '--checkpoints', checkpointFile], env);
    expect(verify.code, verify.err).toBe(0);
    expect(verify.out).toContain('1 restore from a backup');
    expect(verify.out).toContain(`restored row ${outside[0]!.seq}: the database was restored from a backup`);
  });
  it('a reconcile that fails half-way through rebuilding a late certificate never leaves it live: the next run still revokes it', { timeout: 600_000 }, async () => {
    const dump = join(dir, 'before-late.dump');
    await run(join(PG_BIN, 'pg_dump'), ['--format=custom', `--file=${dump}`, server.url]);
    const late = await create('late-crash');
    await active(late, 1);
    await restoreFrom(dump);

    // The first run fails after the late certificate's row is written, before its version is recorded
    // (here: the issuer store is unavailable; in production: a crash, a lost connection).
    const deps = activityDeps(harness);
    const unavailable = new Proxy(deps.issuers, { get: (target, property) => (property === 'load' ? async () => { throw new Error('issuer store unavailable'); } : Reflect.get(target, property)) });
    const failed = await reconcilePlatform({ ...deps, issuers: unavailable }, { taskQueue: harness.taskQueue, externalCheckpoints: [] }).catch((error: unknown) => error);
    expect(failed instanceof Error ? failed.message : JSON.stringify(failed)).toContain('issuer store unavailable');

    const second = await reconcilePlatform(deps, { taskQueue: harness.taskQueue, externalCheckpoints: [] });
    const [row] = await harness.db.select().from(certificates).where(eq(certificates.id, late));
    const versions = await harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, late));
    expect(row?.state, JSON.stringify(second.findings, null, 2)).toBe('revoked');
    expect(versions).toHaveLength(1);
    expect(versions.map((version) => version.status)).toEqual(['revoked']);
    const ocsp = await harness.db.select().from(ocspResponses).where(eq(ocspResponses.serial, versions[0]!.serial));
    expect(ocsp.length).toBeGreaterThan(0);
    expect(ocsp.every((response) => response.certStatus === 'revoked')).toBe(true);
    expect((await harness.client.workflow.getHandle(lifecycleWorkflowId(late)).describe()).status.name).toBe('TERMINATED');

    const third = await reconcilePlatform(deps, { taskQueue: harness.taskQueue, externalCheckpoints: [] });
    expect(third.findings).toEqual([]);
  });
  it('a lifecycle restarted after recovering a lost renewal serves the renewed version, not the one the backup had', { timeout: 600_000 }, async () => {
    const id = await create('restarted-after-recovery');
    await active(id, 1);
    const dump = join(dir, 'before-renewal.dump');
    await run(join(PG_BIN, 'pg_dump'), ['--format=custom', `--file=${dump}`, server.url]);
    await requester.renew(id, 'after the backup');
    await active(id, 2);
    // Its lifecycle closed without a revocation (an operator's terminate, a crashed run): reconcile restarts it.
    await harness.client.workflow.getHandle(lifecycleWorkflowId(id)).terminate('closed for the test');
    await restoreFrom(dump);

    const report = await reconcilePlatform(activityDeps(harness), { taskQueue: harness.taskQueue, externalCheckpoints: [] });
    const actions = report.findings.filter((finding) => finding.certificateId === id).map((finding) => finding.action);
    expect(actions).toEqual(['recover_versions', 'restart']);
    const [row] = await harness.db.select().from(certificates).where(eq(certificates.id, id));
    const [current] = await harness.db.select().from(certificateVersions).where(eq(certificateVersions.id, row!.currentVersionId!));
    expect(current?.generation).toBe(2);
    // The restarted lifecycle serves (and rolls out) generation 2, and signs nothing new.
    const served = await active(id, 2);
    expect(served.currentVersion?.serial).toBe(current?.serial);
    expect(await harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id))).toHaveLength(2);
  });
});
