/**
 * Revocation always wins, on the real Temporal dev server and real Postgres, checked by openssl as a
 * relying party: a revoke cancels a rollout that waits on an endpoint that never serves the new
 * version (202 in under 2 s, OCSP `revoked` within 5 s); a revocation during a Postgres outage of
 * 60 s completes by itself once Postgres is back; a certificate whose workflow was terminated can
 * still be revoked; a version recorded after its certificate's revocation is recorded revoked with
 * the revocation's reason, and no report that lands late undoes the revocation; an approval accepted
 * just before a revocation does not hold the revocation up.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { WorkflowUpdateStage } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { reportRolloutRecovered } from '../../activities/rollout-report.js';
import { approveUpdate, revokeSignal, statusQuery } from '../../contracts/lifecycle-messages.js';
import { findApprovalOfCertificate } from '../../db/approvals.js';
import { certificateKeys, certificates, certificateVersions, idempotencyKeys, issuedSerials } from '../../db/schema.js';
import { recordIssuedVersion } from '../../db/versions.js';
import { activityDeps, authHeaders, createTeamWithTokens, createToken, eventually } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { makePostgresRefuseConnections, type PostgresOutage } from '../support/postgres-outage.js';
import { revokeAndWait } from '../support/revoke.js';
import { startTlsService, type TlsService } from '../support/tls-service.js';

const run = promisify(execFile);

let outage: PostgresOutage | null = null;
const services: TlsService[] = [];

const suite = useIntegrationSuite('revocation-wins', {
  worker: true,
  team: true,
  http: true,
  teardown: async () => {
    await outage?.end();
    await Promise.all(services.map((service) => service.close()));
  },
});

interface View {
  state: string;
  pendingStep: string | null;
  currentVersion: { serial: string; generation: number } | null;
}

const view = (id: string) => suite.certificates.view<View>(id);

async function create(label: string, destinations: unknown[]): Promise<string> {
  return (await suite.certificates.create({ team: suite.team.teamName, dnsNames: [`${label}.example.test`], validity: 'P1D', destinations })).id;
}

const until = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000) => eventually(check, { timeoutMs, intervalMs: 100, what });

/** What `openssl ocsp` says of the certificate's current version, asking Certflow's responder over HTTP. */
async function ocspStatus(id: string, dir: string): Promise<string> {
  const bundle = await (await suite.harness.app.request(`/v1/certificates/${id}/certificate.pem`, { headers: authHeaders(suite.team.requester, false) })).text();
  const [leaf, intermediate] = bundle.split(/(?<=-----END CERTIFICATE-----)\n?/).filter((pem) => pem.includes('BEGIN'));
  const roots = await (await suite.harness.app.request('/pki/roots.pem')).text();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'leaf.pem'), `${leaf!.trim()}\n`);
  await writeFile(join(dir, 'intermediate.pem'), `${intermediate!.trim()}\n`);
  await writeFile(join(dir, 'chain.pem'), `${intermediate!.trim()}\n${roots.trim()}\n`);
  const { stdout } = await run('openssl', ['ocsp', '-no_nonce', '-issuer', join(dir, 'intermediate.pem'), '-cert', join(dir, 'leaf.pem'), '-url', `${suite.baseUrl}/pki/ocsp`, '-CAfile', join(dir, 'chain.pem')]);
  return stdout.replace(`${join(dir, 'leaf.pem')}: `, '').split('\n')[0]!.trim();
}

describe('revocation always wins', () => {
  it('cancels a rollout waiting on an endpoint that never serves it: 202 in under 2 s, OCSP revoked within 5 s', async () => {
    // An endpoint that never serves anything Certflow delivered: it has no certificate files at all.
    const service = await startTlsService(join(suite.harness.deliveryRoot, 'never-served'));
    services.push(service);
    const id = await create('never-served', [{ type: 'file', directory: 'waiting', verify: { endpoints: [{ host: '127.0.0.1', port: service.port, serverName: 'never-served.example.test' }], timeout: 'PT1H' } }]);
    await until('the rollout to wait on verification', async () => ((await view(id)).pendingStep === 'verify' ? true : undefined));
    expect(await ocspStatus(id, join(suite.harness.deliveryRoot, 'ocsp-before'))).toBe('good');

    const { answer, elapsedMs } = await revokeAndWait(suite.harness.app, id, suite.team.requester, 'keyCompromise');
    expect(elapsedMs).toBeLessThan(2_000);
    expect(['revoking', 'revoked']).toContain(answer.state);
    const started = Date.now();
    await until('OCSP to say revoked', async () => ((await ocspStatus(id, join(suite.harness.deliveryRoot, 'ocsp-after'))) === 'revoked' ? true : undefined), 5_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    const status = await suite.harness.client.workflow.getHandle(`certificate/${id}`).query(statusQuery);
    expect(status).toMatchObject({ state: 'revoked', pendingStep: 'none' });
  });

  it('completes a revocation by itself after Postgres was down for 60 s', async () => {
    const id = await create('outage', [{ type: 'file', directory: 'outage' }]);
    await until('the first version', async () => ((await view(id)).state === 'active' ? true : undefined));
    const handle = suite.harness.client.workflow.getHandle(`certificate/${id}`);

    // The API needs Postgres to authorize; with it down, the revocation reaches the workflow as the API sends it.
    outage = await makePostgresRefuseConnections(suite.harness.databaseUrl);
    await handle.signal(revokeSignal, { reason: 'keyCompromise' });
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    expect((await handle.query(statusQuery)).state).toBe('revoking');
    await outage.end();
    outage = null;

    await until('the revocation to complete', async () => ((await handle.query(statusQuery)).state === 'revoked' ? true : undefined), 60_000);
    const versions = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));
    expect(versions.map((version) => [version.status, version.revocationReason])).toEqual([['revoked', 'keyCompromise']]);
    expect((await view(id)).state).toBe('revoked');
  });

  it('revokes a certificate whose workflow was terminated', async () => {
    const id = await create('terminated', [{ type: 'file', directory: 'terminated' }]);
    await until('the first version', async () => ((await view(id)).state === 'active' ? true : undefined));
    const handle = suite.harness.client.workflow.getHandle(`certificate/${id}`);
    await handle.terminate('an operator ended it by mistake');

    await revokeAndWait(suite.harness.app, id, suite.team.requester, 'cessationOfOperation');
    const versions = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));
    expect(versions.every((version) => version.status === 'revoked' && version.revocationReason === 'cessationOfOperation')).toBe(true);
    expect((await suite.harness.client.workflow.getHandle(`certificate/${id}`).describe()).status.name).toBe('COMPLETED');
  });

  it('records revoked a version signed while its certificate was being revoked, never an active orphan', async () => {
    const id = await create('late', [{ type: 'file', directory: 'late' }]);
    await until('the first version', async () => ((await view(id)).state === 'active' ? true : undefined));
    await revokeAndWait(suite.harness.app, id, suite.team.requester, 'superseded');
    const [first] = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));

    // What an issuance that was already signing records when it finishes after the revocation.
    const late = await recordIssuedVersion(suite.harness.db, { ...first!, issuerId: first!.issuerId!, id: `${first!.id}-late`, generation: 2, serial: `${first!.serial}ff`, fingerprintSha256: randomBytes(32).toString('hex'), status: 'active', revokedAt: null, revocationReason: null });
    expect(late).toMatchObject({ status: 'revoked', revocationReason: 'superseded' });
    const [certificate] = await suite.harness.db.select().from(certificates).where(eq(certificates.id, id));
    expect(certificate).toMatchObject({ state: 'revoked', currentVersionId: first!.id });
  });

  it('keeps a certificate revoking when a version that was being signed is recorded before the revocation is', async () => {
    const id = await create('revoking-late-version', [{ type: 'file', directory: 'revoking-late-version' }]);
    await until('the first version', async () => ((await view(id)).state === 'active' ? true : undefined));
    const [first] = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));
    // The revocation is accepted (the lifecycle records `revoking`) but has not revoked anything yet.
    await suite.harness.db.update(certificates).set({ state: 'revoking' }).where(eq(certificates.id, id));

    const late = await recordIssuedVersion(suite.harness.db, { ...first!, issuerId: first!.issuerId!, id: `${first!.id}-late`, generation: 2, serial: `${first!.serial}dd`, fingerprintSha256: randomBytes(32).toString('hex'), status: 'active', revokedAt: null, revocationReason: null });
    expect(late.status).toBe('active');
    const [certificate] = await suite.harness.db.select().from(certificates).where(eq(certificates.id, id));
    expect(certificate).toMatchObject({ state: 'revoking', currentVersionId: late.id });

    // The revocation then revokes it with the rest.
    await revokeAndWait(suite.harness.app, id, suite.team.requester, 'keyCompromise');
    const versions = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));
    expect(versions.map((version) => version.status)).toEqual(['revoked', 'revoked']);
  });

  it('logs every serial before signing, and a revocation deletes a key made for a generation never signed', async () => {
    const id = await create('orphan-key', [{ type: 'file', directory: 'orphan-key' }]);
    await until('the first version', async () => ((await view(id)).state === 'active' ? true : undefined));
    const [version] = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));
    const logged = await suite.harness.db.select().from(issuedSerials).where(eq(issuedSerials.certificateId, id));
    expect(logged.map((row) => [row.issuerId, row.serial, row.generation])).toEqual([[version!.issuerId, version!.serial, 1]]);

    // What a worker killed between storing the next generation's key and signing leaves behind.
    const [key] = await suite.harness.db.select().from(certificateKeys).where(eq(certificateKeys.certificateId, id));
    await suite.harness.db.insert(certificateKeys).values({ ...key!, id: `${key!.id}-g2`, generation: 2 });
    await revokeAndWait(suite.harness.app, id, suite.team.requester, 'keyCompromise');
    const keys = await suite.harness.db.select().from(certificateKeys).where(eq(certificateKeys.certificateId, id));
    expect(keys.map((row) => row.generation)).toEqual([1]);
  });

  it('keeps a revocation when a rollout report lands after it, and a later version is recorded revoked', async () => {
    const id = await create('late-report', [{ type: 'file', directory: 'late-report' }]);
    await until('the first version', async () => ((await view(id)).state === 'active' ? true : undefined));
    await revokeAndWait(suite.harness.app, id, suite.team.requester, 'keyCompromise');
    const [first] = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));

    // What a rollout report activity, cancelled by the revocation but still running on the worker, does when it commits last.
    await reportRolloutRecovered(activityDeps(suite.harness), { certificateId: id, versionId: first!.id, rolloutKey: 'g1/rollout/2' });
    expect((await view(id)).state).toBe('revoked');
    const late = await recordIssuedVersion(suite.harness.db, { ...first!, issuerId: first!.issuerId!, id: `${first!.id}-late`, generation: 2, serial: `${first!.serial}ee`, fingerprintSha256: randomBytes(32).toString('hex'), status: 'active', revokedAt: null, revocationReason: null });
    expect(late).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise' });
  });

  describe('with approvals', () => {
    const needsApproval = { allowedDomains: ['example.test'], allowWildcards: true, maxValidity: 'P30D', approval: { wildcards: true, deadline: 'PT1H', escalateAfter: 'PT30M' } };

    async function approverOf(team: { teamId: string }) {
      return { tokenId: (await createToken(suite.harness, team.teamId, 'approver')).id, role: 'approver' as const, teamId: team.teamId };
    }

    async function awaitingApproval(label: string, policy: Record<string, unknown> = needsApproval) {
      const team = await createTeamWithTokens(suite.harness, { policy });
      const response = await suite.harness.app.request('/v1/certificates', {
        method: 'POST',
        headers: authHeaders(team.requester),
        body: JSON.stringify({ team: team.teamName, dnsNames: [`*.${label}.example.test`], validity: 'P1D' }),
      });
      expect(response.status, await response.clone().text()).toBe(202);
      const { id } = (await response.json()) as { id: string };
      const handle = suite.harness.client.workflow.getHandle(`certificate/${id}`);
      await until('the approval request', async () => ((await handle.query(statusQuery)).pendingStep === 'await-approval' ? true : undefined));
      return { id, team, handle };
    }

    it('revokes a certificate whose approval was accepted just before, and tells the approver the request closed', async () => {
      const { team, handle } = await awaitingApproval('approved-then-revoked');
      const decision = await handle.startUpdate(approveUpdate, {
        args: [{ approver: await approverOf(team), reason: 'looks right' }],
        waitForStage: WorkflowUpdateStage.ACCEPTED,
      });
      await handle.signal(revokeSignal, { reason: 'keyCompromise' });

      await until('the revocation', async () => ((await handle.query(statusQuery)).state === 'revoked' ? true : undefined), 15_000);
      await expect(decision.result()).rejects.toMatchObject({ cause: { message: expect.stringMatching(/closed: the certificate was revoked before the decision took effect/) } });
      expect((await handle.describe()).status.name).toBe('COMPLETED');
    });

    it('records a version signed after a revocation before issuance with that revocation\'s reason', async () => {
      const issued = await create('signed-elsewhere', []);
      await until('a version to copy the signed fields of', async () => ((await view(issued)).state === 'active' ? true : undefined));
      const [donor] = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, issued));
      const { id, team } = await awaitingApproval('revoked-while-waiting');
      await revokeAndWait(suite.harness.app, id, team.requester, 'keyCompromise');
      const late = await recordIssuedVersion(suite.harness.db, { ...donor!, issuerId: donor!.issuerId!, id: `ver_late_${randomBytes(4).toString('hex')}`, certificateId: id, generation: 1, serial: randomBytes(16).toString('hex'), fingerprintSha256: randomBytes(32).toString('hex'), status: 'active', revokedAt: null, revocationReason: null });
      const [certificate] = await suite.harness.db.select().from(certificates).where(eq(certificates.id, id));
      expect(late).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise', revokedAt: certificate!.revokedAt });
      expect(certificate).toMatchObject({ state: 'revoked', revocationReason: 'keyCompromise', currentVersionId: null });
    });

    it('still revokes after an approval that arrived while its expiry was being recorded', async () => {
      const { id, team, handle } = await awaitingApproval('late-approval', { ...needsApproval, approval: { wildcards: true, deadline: 'PT8S', escalateAfter: 'PT2S' } });
      const approval = await until('the escalation', async () => {
        const row = await findApprovalOfCertificate(suite.harness.db, id);
        return row?.escalatedAt ? row : undefined;
      });
      // A slow Postgres: the expiry's write waits on this lock while an approver answers.
      const lock = await suite.harness.pool.connect();
      try {
        await lock.query('BEGIN');
        await lock.query('SELECT id FROM approvals WHERE id = $1 FOR UPDATE', [approval.id]);
        await new Promise((resolve) => setTimeout(resolve, approval.deadlineAt.getTime() - Date.now() + 1_500));
        const late = handle.executeUpdate(approveUpdate, { args: [{ approver: await approverOf(team), reason: 'late but fine' }] });
        await expect(late).rejects.toMatchObject({ cause: { message: expect.stringMatching(/no longer pending \(expired\)/) } });
        await lock.query('COMMIT');
      } finally {
        lock.release();
      }
      await until('the expiry', async () => ((await handle.query(statusQuery)).state === 'approval_expired' ? true : undefined));
      await revokeAndWait(suite.harness.app, id, team.requester, 'keyCompromise');
      expect((await handle.describe()).status.name).toBe('COMPLETED');
    });
  });

  it('never starts a revoked certificate again when its create is retried with the same Idempotency-Key', async () => {
    const post = () =>
      suite.harness.app.request('/v1/certificates', {
        method: 'POST',
        headers: { ...authHeaders(suite.team.requester), 'Idempotency-Key': 'revoked-then-retried' },
        body: JSON.stringify({ team: suite.team.teamName, dnsNames: ['retried.example.test'], validity: 'P1D' }),
      });
    const first = await post();
    expect(first.status).toBe(202);
    const { id } = (await first.json()) as { id: string };
    await until('the first version', async () => ((await view(id)).state === 'active' ? true : undefined));
    await revokeAndWait(suite.harness.app, id, suite.team.requester, 'keyCompromise');
    const handle = suite.harness.client.workflow.getHandle(`certificate/${id}`);
    const closedRun = (await handle.describe()).runId;

    // What a create whose start was not confirmed leaves for its retry: the start kept, no answer, the lease over.
    await suite.harness.db.update(idempotencyKeys).set({ responseStatus: null, responseBody: null, heldUntil: new Date() }).where(eq(idempotencyKeys.key, 'revoked-then-retried'));
    expect((await post()).status).toBe(202);
    expect((await handle.describe()).runId).toBe(closedRun);
    expect((await view(id)).state).toBe('revoked');
  });
});
