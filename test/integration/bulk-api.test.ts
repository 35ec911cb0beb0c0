/**
 * `/v1/bulk-reissues` against real Postgres and the real Temporal dev server: dry runs count exactly
 * what the selector means and write nothing; bad requests are 400 problem+json and leave no trace;
 * a team selects within its own team only; a real run renews each selected certificate once,
 * revokes what it superseded (listed in the issuer's CRL, read by openssl); pause stops the sending,
 * resume finishes it; cancel lets the renewal under way finish and touches nothing else.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { and, count, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BulkProgress } from '../../core/bulk.js';
import { listBulkItems } from '../../db/bulk.js';
import { auditEvents, bulkOperations, certificates, certificateVersions, teams } from '../../db/schema.js';
import { authHeaders, createHarness, createTeamWithTokens, eventually, startInProcessWorker, TEST_BOOTSTRAP_TOKEN, type Harness, type InProcessWorker } from '../support/harness.js';

const run = promisify(execFile);

type Team = Awaited<ReturnType<typeof createTeamWithTokens>> & { responder: string };

interface Fixture {
  name: string;
  dnsNames: string[];
  keyAlgorithm: string;
  validity: string;
  /** tls-server unless given; Ed25519 is for clients only. */
  profile?: string;
}

/** Team A's and team B's certificates; the selectors below are checked against these by hand. */
const FIXTURES_A: Fixture[] = [
  { name: 'A0', dnsNames: ['web-0.a.example.test'], keyAlgorithm: 'ECDSA-P256', validity: 'P2D' },
  { name: 'A1', dnsNames: ['web-1.a.example.test'], keyAlgorithm: 'ECDSA-P256', validity: 'P20D' },
  { name: 'A2', dnsNames: ['api.a.example.test'], keyAlgorithm: 'RSA-2048', validity: 'P2D' },
  { name: 'A3', dnsNames: ['x.api.a.example.test'], keyAlgorithm: 'ECDSA-P384', validity: 'P20D' },
  { name: 'A4', dnsNames: ['deep.x.api.a.example.test'], keyAlgorithm: 'Ed25519', validity: 'P2D', profile: 'tls-client' },
  { name: 'A5', dnsNames: ['mail.a.example.test'], keyAlgorithm: 'ECDSA-P256', validity: 'P20D' },
  { name: 'A6', dnsNames: ['portal.example.test', 'web-2.a.example.test'], keyAlgorithm: 'ECDSA-P384', validity: 'P20D' },
];
const FIXTURES_B: Fixture[] = [
  { name: 'B0', dnsNames: ['web-0.b.example.test'], keyAlgorithm: 'ECDSA-P256', validity: 'P2D' },
  { name: 'B1', dnsNames: ['api.b.example.test'], keyAlgorithm: 'ECDSA-P256', validity: 'P20D' },
  { name: 'B2', dnsNames: ['x.api.b.example.test'], keyAlgorithm: 'RSA-2048', validity: 'P2D' },
  { name: 'B3', dnsNames: ['web-1.b.example.test'], keyAlgorithm: 'Ed25519', validity: 'P20D', profile: 'tls-client' },
  { name: 'B4', dnsNames: ['db.b.example.test'], keyAlgorithm: 'ECDSA-P384', validity: 'P2D' },
];

let harness: Harness;
let worker: InProcessWorker;
let teamA: Team;
let teamB: Team;
/** Fixture name → certificate id. */
const ids = new Map<string, string>();

async function createToken(teamId: string, role: string): Promise<string> {
  const response = await harness.app.request(`/v1/teams/${teamId}/tokens`, { method: 'POST', headers: authHeaders(TEST_BOOTSTRAP_TOKEN), body: JSON.stringify({ role }) });
  expect(response.status).toBe(201);
  return ((await response.json()) as { token: string }).token;
}

async function createTeam(): Promise<Team> {
  const team = await createTeamWithTokens(harness);
  return { ...team, responder: await createToken(team.teamId, 'responder') };
}

async function createCertificates(team: Team, fixtures: Fixture[]): Promise<string[]> {
  const created: string[] = [];
  for (const fixture of fixtures) {
    const response = await harness.app.request('/v1/certificates', {
      method: 'POST',
      headers: authHeaders(team.requester),
      body: JSON.stringify({ team: team.teamName, dnsNames: fixture.dnsNames, keyAlgorithm: fixture.keyAlgorithm, validity: fixture.validity, profile: fixture.profile ?? 'tls-server' }),
    });
    expect(response.status, await response.clone().text()).toBe(202);
    const { id } = (await response.json()) as { id: string };
    ids.set(fixture.name, id);
    created.push(id);
  }
  await eventually(
    async () => {
      const rows = await harness.db.select().from(certificates).where(inArray(certificates.id, created));
      return rows.every((row) => row.state === 'active') ? true : undefined;
    },
    { timeoutMs: 90_000, what: `${created.length} certificates to be active` },
  );
  return created;
}

const idsOf = (...names: string[]) => names.map((name) => ids.get(name)!).sort();

function post(path: string, token: string, body: unknown) {
  return harness.app.request(path, { method: 'POST', headers: authHeaders(token), body: JSON.stringify(body) });
}

interface DryRun {
  dryRun: true;
  count: number;
  perTeam: { teamId: string; teamName: string; count: number }[];
  sample: { certificateId: string; commonName: string | null; dnsNames: string[]; serial: string; issuerId: string; notAfter: string }[];
}

async function dryRun(token: string, selector: Record<string, unknown>): Promise<DryRun> {
  const response = await post('/v1/bulk-reissues', token, { selector, reason: 'preview', dryRun: true });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as DryRun;
}

interface OperationView {
  id: string;
  state: string;
  counts: BulkProgress['counts'];
  progress: BulkProgress | null;
  items: { certificateId: string; oldVersionId: string | null; newVersionId: string | null; outcome: string | null; reason: string | null; revokedAt: string | null }[];
  nextCursor: string | null;
  finishedAt: string | null;
}

async function view(id: string, token: string, query = ''): Promise<OperationView> {
  const response = await harness.app.request(`/v1/bulk-reissues/${id}${query}`, { headers: authHeaders(token, false) });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as OperationView;
}

async function start(token: string, body: Record<string, unknown>): Promise<{ id: string; workflowId: string; state: string }> {
  const response = await post('/v1/bulk-reissues', token, body);
  expect(response.status, await response.clone().text()).toBe(202);
  const started = (await response.json()) as { id: string; workflowId: string; state: string };
  expect(response.headers.get('location')).toBe(`/v1/bulk-reissues/${started.id}`);
  return started;
}

function untilState(id: string, token: string, states: string[], timeoutMs = 120_000): Promise<OperationView> {
  return eventually(
    async () => {
      const current = await view(id, token);
      return states.includes(current.state) ? current : undefined;
    },
    { timeoutMs, intervalMs: 500, what: `bulk operation ${id} to be ${states.join(' or ')}` },
  );
}

async function traces() {
  const [operations] = await harness.db.select({ n: count() }).from(bulkOperations);
  const [events] = await harness.db.select({ n: count() }).from(auditEvents);
  const workflows = await harness.client.workflow.count(`WorkflowType = "bulkReissue" AND TaskQueue = "${harness.taskQueue}"`);
  return { operations: operations!.n, auditEvents: events!.n, workflows: workflows.count };
}

async function versionsOf(certificateIds: string[]) {
  return harness.db.select().from(certificateVersions).where(inArray(certificateVersions.certificateId, certificateIds));
}

async function generations(certificateIds: string[]): Promise<Record<string, number[]>> {
  const versions = await versionsOf(certificateIds);
  return Object.fromEntries(
    certificateIds.map((id) => [
      id,
      versions
        .filter((version) => version.certificateId === id)
        .map((version) => version.generation)
        .sort((a, b) => a - b),
    ]),
  );
}

const fiveDaysFromNow = () => new Date(Date.now() + 5 * 86_400_000).toISOString();

beforeAll(async () => {
  harness = await createHarness('bulk-api');
  worker = await startInProcessWorker(harness);
  teamA = await createTeam();
  teamB = await createTeam();
  await createCertificates(teamA, FIXTURES_A);
  await createCertificates(teamB, FIXTURES_B);
});

afterAll(async () => {
  await worker?.stop();
  await harness?.close();
});

describe('POST /v1/bulk-reissues with dryRun', () => {
  it('counts exactly what each selector selects, per team, and writes nothing', async () => {
    const before = await traces();
    const both = [teamA.teamName, teamB.teamId];
    // [selector, selected fixtures]
    const cases: Array<[string, Record<string, unknown>, string[]]> = [
      ['ok/two teams', { teams: both }, [...FIXTURES_A, ...FIXTURES_B].map((fixture) => fixture.name)],
      ['ok/* within one label', { teams: both, sanPattern: '*.api.*.example.test' }, ['A3', 'B2']],
      ['ok/** across labels', { teams: both, sanPattern: '**.api.a.example.test' }, ['A3', 'A4']],
      ['ok/* and ** with any of the names', { teams: both, sanPattern: 'web-*.**' }, ['A0', 'A1', 'A6', 'B0', 'B3']],
      ['ok/upper-case pattern', { teams: both, sanPattern: 'DB.B.EXAMPLE.TEST' }, ['B4']],
      ['ok/key algorithms', { teams: both, keyAlgorithms: ['RSA-2048', 'Ed25519'] }, ['A2', 'A4', 'B2', 'B3']],
      ['ok/profiles', { teams: both, profiles: ['tls-client'] }, ['A4', 'B3']],
      ['ok/expires before', { teams: both, expiresBefore: fiveDaysFromNow() }, ['A0', 'A2', 'A4', 'B0', 'B2', 'B4']],
      ['ok/expires after', { teams: both, expiresAfter: fiveDaysFromNow() }, ['A1', 'A3', 'A5', 'A6', 'B1', 'B3']],
      ['ok/certificate ids without team', { certificateIds: idsOf('A1', 'B1') }, ['A1', 'B1']],
      ['ok/combined criteria', { teams: [teamB.teamName], keyAlgorithms: ['ECDSA-P256'], expiresBefore: fiveDaysFromNow() }, ['B0']],
      ['ok/nothing matches', { teams: both, sanPattern: 'nothing.example.test' }, []],
    ];
    for (const [name, selector, expected] of cases) {
      const result = await dryRun(TEST_BOOTSTRAP_TOKEN, selector);
      expect(result.dryRun, name).toBe(true);
      expect(result.count, name).toBe(expected.length);
      const perTeam = [
        { teamId: teamA.teamId, teamName: teamA.teamName, count: expected.filter((fixture) => fixture.startsWith('A')).length },
        { teamId: teamB.teamId, teamName: teamB.teamName, count: expected.filter((fixture) => fixture.startsWith('B')).length },
      ].filter((team) => team.count > 0);
      expect(sortByName(result.perTeam), name).toEqual(sortByName(perTeam));
      expect(result.sample.map((row) => row.certificateId).sort(), name).toEqual(idsOf(...expected));
    }
    expect(await traces()).toEqual(before);
  });

  it('selects by serial (openssl notation accepted) and shows each sampled certificate', async () => {
    const [version] = await harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, ids.get('A5')!));
    const colonSerial = version!.serial.toUpperCase().match(/../g)!.join(':');
    const result = await dryRun(TEST_BOOTSTRAP_TOKEN, { serials: [colonSerial] });
    expect(result.count).toBe(1);
    expect(result.sample).toEqual([
      { certificateId: ids.get('A5'), commonName: null, dnsNames: ['mail.a.example.test'], serial: version!.serial, issuerId: version!.issuerId, notAfter: version!.notAfter.toISOString() },
    ]);
  });

  it('confines a team token to its own team', async () => {
    for (const selector of [{ sanPattern: '**' }, { all: true }, { teams: [teamA.teamName] }, { teams: [teamA.teamId], sanPattern: '**.example.test' }]) {
      const result = await dryRun(teamA.responder, selector);
      expect(result.count, JSON.stringify(selector)).toBe(FIXTURES_A.length);
      expect(result.perTeam).toEqual([{ teamId: teamA.teamId, teamName: teamA.teamName, count: FIXTURES_A.length }]);
    }
    // A team admin is confined the same way.
    expect((await dryRun(teamB.admin, { all: true })).perTeam).toEqual([{ teamId: teamB.teamId, teamName: teamB.teamName, count: FIXTURES_B.length }]);
  });
});

describe('POST /v1/bulk-reissues refused', () => {
  it('answers 400/403 problem+json and writes nothing', async () => {
    const before = await traces();
    const reason = 'incident 42';
    const cases: Array<[string, string, unknown, number, RegExp]> = [
      ['fail/empty selector', TEST_BOOTSTRAP_TOKEN, { selector: {}, reason }, 400, /at least one criterion/],
      ['fail/empty selector, real run', teamA.responder, { selector: {}, reason, dryRun: false }, 400, /at least one criterion/],
      ['fail/all with criteria', TEST_BOOTSTRAP_TOKEN, { selector: { all: true, sanPattern: '**' }, reason }, 400, /all/],
      ['fail/empty list', TEST_BOOTSTRAP_TOKEN, { selector: { teams: [] }, reason }, 400, /teams/],
      ['fail/bad sanPattern', TEST_BOOTSTRAP_TOKEN, { selector: { sanPattern: 'a_b.example.test' }, reason }, 400, /sanPattern/],
      ['fail/regex in sanPattern', TEST_BOOTSTRAP_TOKEN, { selector: { sanPattern: '(.*)' }, reason }, 400, /sanPattern/],
      ['fail/long sanPattern', TEST_BOOTSTRAP_TOKEN, { selector: { sanPattern: 'a'.repeat(254) }, reason }, 400, /sanPattern/],
      ['fail/bad serial', TEST_BOOTSTRAP_TOKEN, { selector: { serials: ['xyz'] }, reason }, 400, /serials/],
      ['fail/bad date', TEST_BOOTSTRAP_TOKEN, { selector: { expiresBefore: 'tomorrow' }, reason }, 400, /expiresBefore/],
      ['fail/unknown team', TEST_BOOTSTRAP_TOKEN, { selector: { teams: [teamA.teamName, 'no-such-team'] }, reason }, 400, /no-such-team/],
      ['fail/unknown issuer', TEST_BOOTSTRAP_TOKEN, { selector: { issuers: ['iss_nope'] }, reason }, 400, /iss_nope/],
      ['fail/no reason', TEST_BOOTSTRAP_TOKEN, { selector: { all: true } }, 400, /reason/],
      ['fail/unknown field', TEST_BOOTSTRAP_TOKEN, { selector: { all: true }, reason, force: true }, 400, /force/],
      ['fail/maxConcurrent 0', TEST_BOOTSTRAP_TOKEN, { selector: { all: true }, reason, maxConcurrent: 0 }, 400, /maxConcurrent/],
      ['fail/another team', teamB.responder, { selector: { teams: [teamA.teamName] }, reason }, 403, new RegExp(teamA.teamName)],
      ['fail/another team, real run', teamB.responder, { selector: { teams: [teamA.teamId] }, reason, dryRun: false }, 403, /own team/],
      ['fail/requester role', teamA.requester, { selector: { all: true }, reason }, 403, /responder/],
    ];
    for (const [name, token, body, status, detail] of cases) {
      const response = await post('/v1/bulk-reissues', token, body);
      expect(response.status, name).toBe(status);
      expect(response.headers.get('content-type'), name).toBe('application/problem+json');
      const problem = (await response.json()) as { detail: string; errors?: { field: string; message: string }[] };
      expect(`${problem.detail} ${JSON.stringify(problem.errors ?? [])}`, name).toMatch(detail);
    }
    expect(await traces()).toEqual(before);
  });
});

describe('a real bulk reissue', () => {
  let operationId: string;

  it('renews each of the team\'s certificates once and revokes the superseded versions, listed in the CRL', async () => {
    const teamBIds = idsOf(...FIXTURES_B.map((fixture) => fixture.name));
    const oldVersions = await versionsOf(teamBIds);
    const started = await start(teamB.responder, { selector: { all: true }, reason: 'key compromise drill', revokeSuperseded: true, maxConcurrent: 2, maxPerSecond: 5 });
    operationId = started.id;
    expect(started).toMatchObject({ workflowId: `bulk/${started.id}`, state: 'running' });

    const done = await untilState(started.id, teamB.responder, ['completed', 'cancelled']);
    expect(done.state).toBe('completed');
    expect(done.finishedAt).not.toBeNull();
    expect(done.progress, 'no live progress once ended: the row is final').toBeNull();
    expect(done.counts).toMatchObject({ selected: 5, sent: 5, reissued: 5, failed: 0, skipped: 0, revoked: 5 });

    // Every selected certificate has exactly one new version; the old one is revoked.
    const versions = await versionsOf(teamBIds);
    expect(new Set(versions.map((version) => version.serial)).size).toBe(versions.length);
    expect(await generations(teamBIds)).toEqual(Object.fromEntries(teamBIds.map((id) => [id, [1, 2]])));
    for (const old of oldVersions) expect(versions.find((version) => version.id === old.id)?.status, old.certificateId).toBe('revoked');
    expect(versions.filter((version) => version.generation === 2).every((version) => version.status === 'active')).toBe(true);

    // One item per certificate, with its outcome, old and new version; paged by certificate id.
    const first = await view(started.id, teamB.responder, '?limit=3');
    expect(first.items).toHaveLength(3);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await view(started.id, teamB.responder, `?limit=3&cursor=${first.nextCursor}`);
    expect(second.nextCursor).toBeNull();
    const items = [...first.items, ...second.items];
    expect(items.map((item) => item.certificateId)).toEqual(teamBIds);
    for (const item of items) {
      const generation2 = versions.find((version) => version.certificateId === item.certificateId && version.generation === 2)!;
      const generation1 = oldVersions.find((version) => version.certificateId === item.certificateId)!;
      expect(item, item.certificateId).toMatchObject({ outcome: 'reissued', oldVersionId: generation1.id, newVersionId: generation2.id, reason: null });
      expect(item.revokedAt, item.certificateId).not.toBeNull();
    }

    // The issuer's CRL, as openssl reads it, lists every superseded serial.
    for (const issuerId of new Set(oldVersions.map((version) => version.issuerId))) {
      const response = await harness.app.request(`/pki/issuers/${issuerId}.crl`);
      expect(response.status).toBe(200);
      const text = await opensslCrlText(Buffer.from(await response.arrayBuffer()));
      for (const old of oldVersions.filter((version) => version.issuerId === issuerId)) {
        expect(text, old.serial).toContain(`Serial Number: ${old.serial.toUpperCase()}`);
      }
      for (const current of versions.filter((version) => version.generation === 2)) expect(text).not.toContain(current.serial.toUpperCase());
    }

    // Team A's certificates were not touched.
    expect(Object.values(await generations(idsOf(...FIXTURES_A.map((fixture) => fixture.name)))).every((list) => list.join() === '1')).toBe(true);

    // Other tests of this file start operations too: this one's start is audited once.
    const audited = await harness.db.select().from(auditEvents).where(and(eq(auditEvents.action, 'bulk.started'), sql`${auditEvents.details}->>'bulkId' = ${started.id}`));
    expect(audited).toHaveLength(1);
  });

  it('is visible to its team and to platform admins, and absent for another team', async () => {
    expect((await view(operationId, TEST_BOOTSTRAP_TOKEN)).id).toBe(operationId);
    expect((await view(operationId, teamB.admin)).id).toBe(operationId);
    const hidden = await harness.app.request(`/v1/bulk-reissues/${operationId}`, { headers: authHeaders(teamA.responder, false) });
    expect(hidden.status).toBe(404);
    expect(hidden.headers.get('content-type')).toBe('application/problem+json');
    const steer = await post(`/v1/bulk-reissues/${operationId}/pause`, teamA.responder, {});
    expect(steer.status).toBe(404);
    // A finished operation cannot be steered.
    const late = await post(`/v1/bulk-reissues/${operationId}/pause`, teamB.responder, {});
    expect(late.status).toBe(409);
    expect(late.headers.get('content-type')).toBe('application/problem+json');
  });

  it('pauses (no more renewals are sent) and resumes to completion', async () => {
    const teamAIds = idsOf(...FIXTURES_A.map((fixture) => fixture.name));
    const started = await start(teamA.responder, { selector: { all: true }, reason: 'pause drill', maxConcurrent: 1, maxPerSecond: 1 });
    await eventually(async () => ((await view(started.id, teamA.responder)).progress?.counts.sent ?? 0) >= 1 || undefined, { timeoutMs: 30_000, what: 'a first renewal to be sent' });
    const paused = await post(`/v1/bulk-reissues/${started.id}/pause`, teamA.responder, {});
    expect(paused.status, await paused.clone().text()).toBe(200);
    const pausedProgress = (await paused.json()) as BulkProgress;
    expect(pausedProgress.state).toBe('paused');

    // While paused, nothing new is sent (a batch being sent as the pause arrived may still count, and
    // the renewal under way may still finish).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const settled = await view(started.id, teamA.responder);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const during = await view(started.id, teamA.responder);
    expect(during.progress?.state).toBe('paused');
    expect(during.progress?.counts.sent).toBe(settled.progress?.counts.sent);
    expect(during.progress!.counts.sent).toBeLessThanOrEqual(pausedProgress.counts.sent + 1);
    expect(during.progress!.counts.sent).toBeLessThan(FIXTURES_A.length);

    const resumed = await post(`/v1/bulk-reissues/${started.id}/resume`, teamA.responder, {});
    expect(resumed.status).toBe(200);
    expect(((await resumed.json()) as BulkProgress).state).toBe('running');
    const done = await untilState(started.id, teamA.responder, ['completed', 'cancelled']);
    expect(done.state).toBe('completed');
    expect(done.counts).toMatchObject({ selected: 7, sent: 7, reissued: 7, failed: 0, skipped: 0, revoked: 0 });
    expect(await generations(teamAIds)).toEqual(Object.fromEntries(teamAIds.map((id) => [id, [1, 2]])));

    // This operation's events only: other test files share the database and pause and resume operations of their own.
    const actions = await harness.db
      .select({ action: auditEvents.action })
      .from(auditEvents)
      .where(and(inArray(auditEvents.action, ['bulk.paused', 'bulk.resumed']), sql`${auditEvents.details}->>'bulkId' = ${started.id}`));
    expect(actions.map((row) => row.action).sort()).toEqual(['bulk.paused', 'bulk.resumed']);
  });

  it('cancels: the renewal under way finishes and is recorded, the rest stays untouched', async () => {
    const teamC = await createTeam();
    const fixtures = Array.from({ length: 8 }, (_, index) => ({ name: `C${index}`, dnsNames: [`c-${index}.example.test`], keyAlgorithm: 'ECDSA-P256', validity: 'P2D' }));
    const teamCIds = (await createCertificates(teamC, fixtures)).sort();
    const started = await start(teamC.responder, { selector: { sanPattern: 'c-*.example.test' }, reason: 'cancel drill', maxConcurrent: 1, maxPerSecond: 1 });
    await eventually(async () => ((await view(started.id, teamC.responder)).progress?.counts.sent ?? 0) >= 1 || undefined, { timeoutMs: 30_000, what: 'a first renewal to be sent' });

    const cancelled = await post(`/v1/bulk-reissues/${started.id}/cancel`, teamC.responder, {});
    expect(cancelled.status, await cancelled.clone().text()).toBe(200);
    expect(['cancelling', 'cancelled']).toContain(((await cancelled.json()) as BulkProgress).state);
    // The workflow's validator refuses to steer a cancelled operation (or it has already ended): 409.
    const again = await post(`/v1/bulk-reissues/${started.id}/resume`, teamC.responder, {});
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toBe('application/problem+json');

    const done = await untilState(started.id, teamC.responder, ['cancelled', 'completed']);
    expect(done.state).toBe('cancelled');
    expect(done.counts.sent).toBeGreaterThanOrEqual(1);
    expect(done.counts.sent).toBeLessThan(8);

    const items = await listBulkItems(harness.db, started.id, { limit: 100 });
    expect(items).toHaveLength(done.counts.sent);
    expect(items.every((item) => item.outcome === 'reissued' && item.newVersionId !== null)).toBe(true);
    const renewed = new Set(items.map((item) => item.certificateId));
    const byCertificate = await generations(teamCIds);
    for (const id of teamCIds) expect(byCertificate[id], id).toEqual(renewed.has(id) ? [1, 2] : [1]);
    const actions = await harness.db.select({ action: auditEvents.action }).from(auditEvents).where(eq(auditEvents.teamId, teamC.teamId));
    expect(actions.map((row) => row.action)).toContain('bulk.cancelled');
  });
});

describe('a bulk reissue over a certificate whose renewal is already failing', () => {
  it('gets the outcome of the retried step instead of waiting for it forever', async () => {
    const teamD = await createTeam();
    const [id] = await createCertificates(teamD, [{ name: 'D0', dnsNames: ['d-0.example.test'], keyAlgorithm: 'ECDSA-P256', validity: 'P2D' }]);
    // The team's policy no longer allows the name: the next issuance fails with a business error.
    const [team] = await harness.db.select().from(teams).where(eq(teams.id, teamD.teamId));
    await harness.db.update(teams).set({ policy: { ...team!.policy, allowedDomains: ['elsewhere.test'] } }).where(eq(teams.id, teamD.teamId));
    const renew = await post(`/v1/certificates/${id}/renew`, teamD.requester, { reason: 'before the bulk' });
    expect(renew.status, await renew.clone().text()).toBe(202);
    await eventually(
      async () => {
        const response = await harness.app.request(`/v1/certificates/${id}`, { headers: authHeaders(teamD.requester, false) });
        const body = (await response.json()) as { state: string; pendingStep: string | null };
        return body.state === 'failed' && body.pendingStep === 'wait-for-operator' ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'the renewal to fail on policy' },
    );

    // The bulk's renewNow reaches a run that is waiting for an operator: it retries the step, which
    // fails again, and that outcome goes to this bulk operation.
    const started = await start(teamD.responder, { selector: { all: true }, reason: 'retry the failing one' });
    const done = await untilState(started.id, teamD.responder, ['completed', 'cancelled'], 60_000);
    expect(done.counts).toMatchObject({ selected: 1, sent: 1, failed: 1 });
    const [item] = await listBulkItems(harness.db, started.id, { limit: 10 });
    expect(item).toMatchObject({ certificateId: id, outcome: 'failed', newVersionId: null });
    expect(item!.reason).toMatch(/PolicyViolation/);
  });
});

function sortByName<T extends { teamName: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => a.teamName.localeCompare(b.teamName));
}

async function opensslCrlText(der: Buffer): Promise<string> {
  const child = run('openssl', ['crl', '-inform', 'DER', '-text', '-noout']);
  child.child.stdin!.end(der);
  return (await child).stdout;
}
