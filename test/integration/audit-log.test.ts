/**
 * The audit log a CA can show an auditor (issue 11, item 8), on the real Postgres and Temporal:
 * the database refuses UPDATE, DELETE and TRUNCATE of the audit tables (and the configured app role
 * has no such privilege); a certificate's life is recorded with who acted, its serial and issuer;
 * and with the trigger disabled by a database admin, `npm run cli -- audit verify` names the row
 * that was changed, removed or reordered, and notices the newest rows deleted after a checkpoint.
 *
 * The log is shared by every test file of the run: each tampering is undone before the next.
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asc, eq, gt } from 'drizzle-orm';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { appendAuditEvent, verifyAuditChain } from '../../db/audit.js';
import { auditCheckpoints, auditEvents } from '../../db/schema.js';
import { authHeaders, createToken, eventually, startChildWorker, TEST_AUDIT_KEY_HEX, TEST_BOOTSTRAP_TOKEN, TEST_KEK_HEX } from '../support/harness.js';
import { revokeAndWait } from '../support/revoke.js';
import { useIntegrationSuite, type Created } from '../support/integration-suite.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const suite = useIntegrationSuite('audit-log', {
  worker: true,
  team: { policy: { allowedDomains: ['example.test'], allowWildcards: true, maxValidity: 'P30D', approval: { wildcards: true } } },
});

type AuditRow = typeof auditEvents.$inferSelect;

/** Runs `npm run cli -- audit verify` as a child process, as an auditor would. */
async function auditVerify(...args: string[]): Promise<{ code: number | null; output: string }> {
  const dataDir = await mkdtemp(join(inject('tempDir'), 'audit-cli-'));
  const env = { ...process.env, DATABASE_URL: suite.harness.databaseUrl, CERTFLOW_AUDIT_KEY: TEST_AUDIT_KEY_HEX, CERTFLOW_DATA_DIR: dataDir };
  const child = spawn(process.execPath, ['--import', 'tsx', 'cmd/cli.ts', 'audit', 'verify', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  return { code, output };
}

/** SQL as a database admin who may switch the append-only triggers off (the attacker the MACs and checkpoints are for). */
async function withTriggersDisabled<T>(work: () => Promise<T>): Promise<T> {
  await suite.harness.pool.query('alter table audit_events disable trigger user; alter table audit_checkpoints disable trigger user');
  try {
    return await work();
  } finally {
    await suite.harness.pool.query('alter table audit_events enable trigger user; alter table audit_checkpoints enable trigger user');
  }
}

async function newestRows(count: number): Promise<AuditRow[]> {
  const rows = await suite.harness.db.select().from(auditEvents).orderBy(asc(auditEvents.seq));
  return rows.slice(-count);
}

/** Appends a few events of this test's own (through the app: team tokens) and seals the head. */
async function eventsThenCheckpoint(): Promise<AuditRow[]> {
  for (let index = 0; index < 4; index++) await createToken(suite.harness, suite.team.teamId, 'requester');
  const { checkpointAuditLog } = await import('../../db/audit.js');
  await checkpointAuditLog(suite.harness.db, new Date());
  return newestRows(4);
}

async function reinsert(rows: AuditRow[]): Promise<void> {
  for (const row of rows) await suite.harness.db.insert(auditEvents).values(row);
}

describe('the audit tables are append-only', () => {
  it('refuses UPDATE, DELETE and TRUNCATE of audit rows to the role the platform connects as', async () => {
    await createToken(suite.harness, suite.team.teamId, 'requester');
    const [row] = await newestRows(1);
    for (const statement of [`update audit_events set actor = 'someone-else' where seq = ${row!.seq}`, `delete from audit_events where seq = ${row!.seq}`, 'truncate audit_events']) {
      await expect(suite.harness.pool.query(statement), statement).rejects.toThrow(/append-only/);
    }
    const [after] = await suite.harness.db.select().from(auditEvents).where(eq(auditEvents.seq, row!.seq));
    expect(after).toEqual(row);
  });

  it('refuses UPDATE, DELETE and TRUNCATE of checkpoints', async () => {
    const { checkpointAuditLog } = await import('../../db/audit.js');
    await createToken(suite.harness, suite.team.teamId, 'requester');
    const checkpoint = await checkpointAuditLog(suite.harness.db, new Date());
    for (const statement of [`update audit_checkpoints set hash = 'x' where seq = ${checkpoint!.seq}`, 'delete from audit_checkpoints', 'truncate audit_checkpoints']) {
      await expect(suite.harness.pool.query(statement), statement).rejects.toThrow(/append-only/);
    }
  });

  it('leaves the configured app role (CERTFLOW_DB_APP_ROLE) no UPDATE, DELETE or TRUNCATE even with the triggers off', async () => {
    const { applyMigrations } = await import('../../db/migrate.js');
    await suite.harness.pool.query(`do $$ begin create role certflow_app_it nologin; exception when duplicate_object then null; end $$`);
    await suite.harness.pool.query('grant select, insert, update, delete, truncate on all tables in schema public to certflow_app_it');
    await applyMigrations(suite.harness.pool, { appRole: 'certflow_app_it' });
    const client = await suite.harness.pool.connect();
    try {
      await withTriggersDisabled(async () => {
        await client.query('set role certflow_app_it');
        for (const statement of ["update audit_events set actor = 'x' where seq = 1", 'delete from audit_events where seq = 1', 'truncate audit_events', 'delete from audit_checkpoints']) {
          await expect(client.query(statement), statement).rejects.toThrow(/permission denied/);
        }
        // It still reads and appends.
        await client.query('select count(*) from audit_events');
        await client.query('reset role');
      });
    } finally {
      await client.query('reset role').catch(() => undefined);
      client.release();
    }
  });
});

describe('appends from one process go in groups (one transaction under the audit lock)', () => {
  it('commits every event chained in order, each dedupe key once, and fails only an event Postgres refuses', async () => {
    const { db } = suite.harness;
    const tag = `group-${Date.now()}`;
    const event = (details: Record<string, unknown>, dedupeKey: string | null = null) => appendAuditEvent(db, { at: new Date(), actor: 'test', action: 'test.group_commit', details: { tag, ...details }, dedupeKey });
    const outcomes = await Promise.allSettled([
      // Indexes 0, 10, 20 and 30 share a dedupe key: one row for the four.
      ...Array.from({ length: 40 }, (_, index) => event({ index }, index % 10 === 0 ? `${tag}/shared` : null)),
      // jsonb refuses U+0000: the group it is in is appended again event by event.
      event({ index: 40, text: 'nul\u0000' }),
      event({ index: 41 }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([...Array.from({ length: 40 }, () => 'fulfilled'), 'rejected', 'fulfilled']);
    const rows = (await db.select().from(auditEvents).where(eq(auditEvents.action, 'test.group_commit')).orderBy(asc(auditEvents.seq))).filter((row) => row.details['tag'] === tag);
    expect(rows.map((row) => row.details['index'])).toEqual([0, ...Array.from({ length: 39 }, (_, index) => index + 1).filter((index) => index % 10 !== 0), 41]);
    expect(await verifyAuditChain(db)).toBeNull();
  });
});

describe('every CA event is recorded with who acted', () => {
  it('records the request, the approval, the issuance (serial, issuer) and the revocation (reason), and the team, token and agent changes', async () => {
    const approver = await createToken(suite.harness, suite.team.teamId, 'approver');
    const created = await suite.certificates.create<Created & { approval: { id: string } | null }>({ team: suite.team.teamName, dnsNames: ['*.audited.example.test'], validity: 'P1D' });
    expect(created.approval).not.toBeNull();
    const approve = async () => suite.harness.app.request(`/v1/certificates/${created.id}/approve`, { method: 'POST', headers: authHeaders(approver.token), body: JSON.stringify({ reason: 'checked' }) });
    // The approval request is opened by the workflow: retry until it is there.
    await eventually(async () => ((await approve()).status === 200 ? true : undefined), { timeoutMs: 15_000, what: 'the approval to be accepted' });
    const active = await suite.certificates.waitFor<{ state: string; currentVersion: { serial: string; issuerId?: string } | null }>(created.id, (view) => view.state === 'active', { timeoutMs: 20_000, what: 'issuance' });
    await revokeAndWait(suite.harness.app, created.id, suite.team.requester, 'keyCompromise');
    const agent = await suite.harness.app.request('/v1/agents', { method: 'POST', headers: authHeaders(suite.team.admin), body: JSON.stringify({ team: suite.team.teamId, name: 'audited-host' }) });
    expect(agent.status).toBe(201);
    const agentId = ((await agent.json()) as { id: string }).id;

    const events = await eventually(
      async () => {
        const rows = await suite.harness.db.select().from(auditEvents).where(eq(auditEvents.certificateId, created.id)).orderBy(asc(auditEvents.seq));
        return rows.some((row) => row.action === 'certificate.revoked') ? rows : undefined;
      },
      { timeoutMs: 15_000, what: 'the revocation to be recorded' },
    );
    const byAction = (action: string) => events.find((row) => row.action === action);
    expect(events.map((row) => row.action)).toEqual(['certificate.requested', 'approval.requested', 'approval.approved', 'certificate.issued', 'certificate.revocation_requested', 'certificate.revoked']);
    // Events name the principal (the person or service) a token acts for.
    const principalOf = async (where: string, value: string) => (await suite.harness.pool.query<{ principal_id: string }>(`select principal_id from api_tokens where ${where} order by created_at limit 1`, [value])).rows[0]!.principal_id;
    const requester = await principalOf("team_id = $1 and role = 'requester'", suite.team.teamId);
    const approverPrincipal = await principalOf('id = $1', approver.id);
    expect(byAction('certificate.requested')).toMatchObject({ actor: requester, principalId: requester, teamId: suite.team.teamId, details: { dnsNames: ['*.audited.example.test'], approvalId: created.approval!.id } });
    expect(byAction('approval.approved')).toMatchObject({ actor: approverPrincipal });
    const [version] = (await suite.harness.pool.query<{ serial: string; issuer_id: string }>('select serial, issuer_id from certificate_versions where certificate_id = $1', [created.id])).rows;
    expect(active.currentVersion?.serial).toBe(version!.serial);
    expect(byAction('certificate.issued')).toMatchObject({ actor: 'workflow', details: { serial: version!.serial, issuerId: version!.issuer_id, generation: 1 } });
    expect(byAction('certificate.revocation_requested')).toMatchObject({ actor: requester, details: { reason: 'keyCompromise' } });
    expect(byAction('certificate.revoked')).toMatchObject({ details: { serial: version!.serial, issuerId: version!.issuer_id, reason: 'keyCompromise' } });

    const teamEvents = await suite.harness.db.select().from(auditEvents).where(eq(auditEvents.teamId, suite.team.teamId));
    expect(teamEvents.find((row) => row.action === 'team.created')).toMatchObject({ actor: 'prn_bootstrap', details: { name: suite.team.teamName } });
    expect(teamEvents.find((row) => row.action === 'token.minted' && row.details['tokenId'] === approver.id)).toMatchObject({ actor: 'prn_bootstrap', details: { role: 'approver', principalId: approverPrincipal } });
    expect(teamEvents.find((row) => row.action === 'agent.registered')).toMatchObject({ details: { agentId, name: 'audited-host' } });
    const issuers = await suite.harness.db.select().from(auditEvents).where(eq(auditEvents.action, 'issuer.created'));
    expect(issuers.map((row) => row.details['issuerId'])).toContain(version!.issuer_id);

    const verified = await auditVerify();
    expect(verified.output).toMatch(/^audit log OK: \d+ rows/m);
    expect(verified.code).toBe(0);
  });
});

describe('checkpoints', () => {
  it('the auditCheckpoint workflow (the audit-checkpoint Schedule runs it every minute) seals the head, once', async () => {
    await createToken(suite.harness, suite.team.teamId, 'requester');
    const [head] = await newestRows(1);
    const run = (suffix: string) =>
      suite.harness.client.workflow.execute('auditCheckpoint', { taskQueue: suite.harness.taskQueue, workflowId: `audit-checkpoint-it-${head!.seq}-${suffix}`, args: [] });
    expect(await run('first')).toMatchObject({ seq: head!.seq, hash: head!.hash });
    expect(await run('again')).toBeNull();
    const { rows } = await suite.harness.pool.query<{ seq: string; hash: string }>('select seq, hash from audit_checkpoints order by seq desc limit 1');
    expect(rows[0]).toEqual({ seq: String(head!.seq), hash: head!.hash });
  });
});

describe('start-up', () => {
  it('the worker and the API record their configuration without secrets; the worker keeps the audit-checkpoint Schedule', async () => {
    const { startApi } = await import('../../cmd/start-api.js');
    const { loadConfig } = await import('../../cmd/config.js');
    const env = {
      DATABASE_URL: suite.harness.databaseUrl,
      CERTFLOW_ACME_PORT: '0',
      TEMPORAL_ADDRESS: suite.harness.temporalAddress,
      TEMPORAL_NAMESPACE: suite.harness.namespace,
      CERTFLOW_TASK_QUEUE: suite.harness.taskQueue,
      CERTFLOW_KEK: TEST_KEK_HEX,
      CERTFLOW_AUDIT_KEY: TEST_AUDIT_KEY_HEX,
      CERTFLOW_BOOTSTRAP_TOKEN: TEST_BOOTSTRAP_TOKEN,
      CERTFLOW_DATA_DIR: await mkdtemp(join(inject('tempDir'), 'audit-api-')),
      PORT: '0',
    };
    const config = loadConfig(env);
    const api = await startApi({ ...config, databaseUrl: suite.harness.databaseUrl, temporalAddress: suite.harness.temporalAddress }, () => undefined);
    await api.stop();
    const worker = startChildWorker(suite.harness);
    try {
      await worker.ready;
      const started = await suite.harness.db.select().from(auditEvents).where(eq(auditEvents.action, 'platform.started')).orderBy(asc(auditEvents.seq));
      const processes = started.map((row) => (row.details as { process: string }).process);
      expect(processes.slice(-2)).toEqual(['api', 'worker']);
      const text = JSON.stringify(started.slice(-2));
      for (const secret of [TEST_KEK_HEX, TEST_AUDIT_KEY_HEX, TEST_BOOTSTRAP_TOKEN, suite.harness.databaseUrl]) expect(text).not.toContain(secret);
      expect(started.at(-1)!.details).toMatchObject({ config: { taskQueue: suite.harness.taskQueue, auditKeyFrom: 'CERTFLOW_AUDIT_KEY' } });

      const schedule = await suite.harness.client.schedule.getHandle('audit-checkpoint').describe();
      expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'auditCheckpoint', taskQueue: suite.harness.taskQueue });
      expect(schedule.spec.intervals?.[0]?.every).toBe(60_000);
    } finally {
      await worker.kill();
      // Its runs would land on this file's task queue during the tampering below; the next worker start recreates it.
      await suite.harness.client.schedule.getHandle('audit-checkpoint').delete().catch(() => undefined);
    }
  });
});

describe('audit verify names what a database admin changed', () => {
  beforeAll(async () => {
    expect((await auditVerify()).code).toBe(0);
  });

  it('a changed middle row', async () => {
    const rows = await eventsThenCheckpoint();
    const target = rows[1]!;
    await withTriggersDisabled(async () => {
      await suite.harness.db.update(auditEvents).set({ details: { ...target.details, role: 'admin' } }).where(eq(auditEvents.seq, target.seq));
      try {
        const result = await auditVerify();
        expect(result.code).toBe(2);
        expect(result.output).toContain(`changed row ${target.seq}: row ${target.seq} was changed`);
      } finally {
        await suite.harness.db.update(auditEvents).set({ details: target.details }).where(eq(auditEvents.seq, target.seq));
      }
    });
    expect((await auditVerify()).code).toBe(0);
  });

  it('a removed middle row', async () => {
    const rows = await eventsThenCheckpoint();
    const target = rows[1]!;
    await withTriggersDisabled(async () => {
      await suite.harness.db.delete(auditEvents).where(eq(auditEvents.seq, target.seq));
      try {
        const result = await auditVerify();
        expect(result.code).toBe(2);
        expect(result.output).toContain(`removed row ${target.seq + 1}: rows between row ${target.seq - 1} and row ${target.seq + 1} were removed (seq ${target.seq})`);
      } finally {
        await reinsert([target]);
      }
    });
    expect((await auditVerify()).code).toBe(0);
  });

  it('two rows swapped', async () => {
    const rows = await eventsThenCheckpoint();
    const [a, b] = [rows[1]!, rows[2]!];
    const swap = async (first: AuditRow, second: AuditRow) => {
      await suite.harness.db.delete(auditEvents).where(gt(auditEvents.seq, first.seq - 1));
      const tail = rows.filter((row) => row.seq > second.seq);
      await reinsert([{ ...second, seq: first.seq }, { ...first, seq: second.seq }, ...tail]);
    };
    await withTriggersDisabled(async () => {
      await swap(a, b);
      try {
        const result = await auditVerify();
        expect(result.code).toBe(2);
        expect(result.output).toContain(`reordered row ${a.seq}: row ${a.seq} was reordered: in the chain it follows row ${b.seq}`);
        expect(result.output).toContain(`reordered row ${b.seq}: row ${b.seq} was reordered`);
      } finally {
        await suite.harness.db.delete(auditEvents).where(gt(auditEvents.seq, a.seq - 1));
        await reinsert(rows.filter((row) => row.seq >= a.seq));
      }
    });
    expect((await auditVerify()).code).toBe(0);
  });

  it('the newest rows deleted after a checkpoint', async () => {
    const rows = await eventsThenCheckpoint();
    const removed = rows.slice(-2);
    await withTriggersDisabled(async () => {
      await suite.harness.db.delete(auditEvents).where(gt(auditEvents.seq, removed[0]!.seq - 1));
      try {
        const result = await auditVerify();
        expect(result.code).toBe(2);
        expect(result.output).toMatch(new RegExp(`truncated row ${removed[1]!.seq}: the newest rows were removed: the checkpoint of \\S+ names row ${removed[1]!.seq}, but the log ends at row ${removed[0]!.seq - 1}`));
      } finally {
        await reinsert(removed);
      }
    });
    expect((await auditVerify()).code).toBe(0);
  });

  it('the newest rows and the checkpoints naming them deleted: the copy outside the database tells', async () => {
    const { checkpointAuditLog } = await import('../../db/audit.js');
    const { checkpointCopyTo } = await import('../../cmd/audit-startup.js');
    const file = join(await mkdtemp(join(inject('tempDir'), 'audit-copy-')), 'checkpoints.jsonl');
    const kept = await eventsThenCheckpoint();
    for (let index = 0; index < 2; index++) await createToken(suite.harness, suite.team.teamId, 'requester');
    const sealed = await checkpointAuditLog(suite.harness.db, new Date(), { copy: checkpointCopyTo(file, () => undefined) });
    const removed = await suite.harness.db.select().from(auditEvents).where(gt(auditEvents.seq, kept.at(-1)!.seq)).orderBy(asc(auditEvents.seq));
    expect(sealed!.seq).toBe(removed.at(-1)!.seq);
    await withTriggersDisabled(async () => {
      await suite.harness.db.delete(auditEvents).where(gt(auditEvents.seq, kept.at(-1)!.seq));
      await suite.harness.db.delete(auditCheckpoints).where(eq(auditCheckpoints.seq, sealed!.seq));
      try {
        // What is left in the database is a valid, shorter log: only the copy outside it can tell.
        expect((await auditVerify()).code).toBe(0);
        const result = await auditVerify('--checkpoints', file);
        expect(result.code).toBe(2);
        expect(result.output).toContain(`truncated row ${sealed!.seq}: the newest rows were removed`);
        expect(result.output).toContain(`the log ends at row ${kept.at(-1)!.seq}`);
      } finally {
        await reinsert(removed);
        await suite.harness.db.insert(auditCheckpoints).values(sealed!);
      }
    });
    expect((await auditVerify('--checkpoints', file)).code).toBe(0);
  });
});
