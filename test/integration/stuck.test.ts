/**
 * A certificate whose delivery cannot succeed (a regular file stands where its destination directory
 * should be) is visibly stuck: Temporal visibility finds it by its search attributes, the API shows its
 * last error, next retry and deep link, and `?stuck=true` lists it for its own team only.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stuckVisibilityQuery, visibilityString } from '../../api/stuck.js';
import { TEST_TEMPORAL_UI_URL, authHeaders, eventually } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

interface CertificateBody {
  id: string;
  workflowId: string;
  state: string;
  temporalUiUrl: string | null;
  pendingStep: string | null;
  attempt: number | null;
  nextRetryAt: string | null;
  lastError: { type: string; message: string; at: string; attempt: number } | null;
}

const suite = useIntegrationSuite('stuck', { worker: true, team: true, otherTeam: true });

async function request(directory: string, name: string): Promise<string> {
  return (await suite.certificates.create({ team: suite.team.teamName, commonName: name, validity: 'P1D', destinations: [{ type: 'file', directory }] })).id;
}

async function get<T>(token: string, path: string): Promise<{ status: number; body: T }> {
  const response = await suite.harness.app.request(path, { headers: authHeaders(token, false) });
  return { status: response.status, body: (await response.json()) as T };
}

async function visibleWorkflowIds(query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of suite.harness.client.workflow.list({ query })) ids.push(execution.workflowId);
  return ids;
}

describe('stuck renewals, visible', () => {
  it('finds a certificate whose delivery keeps failing, shows why, and lists it as stuck for its team only', async () => {
    // A regular file where the destination directory should be: every delivery fails, the issuance before it succeeds.
    await mkdir(join(suite.harness.deliveryRoot, 'stuck'), { recursive: true });
    await writeFile(join(suite.harness.deliveryRoot, 'stuck', 'web'), 'not a directory\n');
    const stuckId = await request('stuck/web', 'stuck.example.test');
    const healthyId = await request('healthy/web', 'healthy.example.test');

    // The healthy one becomes active; the other gives up its first delivery (2 attempts of a local activity) and backs off.
    await eventually(async () => ((await get<CertificateBody>(suite.team.requester, `/v1/certificates/${healthyId}`)).body.state === 'active' ? true : undefined), {
      timeoutMs: 30_000,
      what: 'the healthy certificate to be active',
    });
    const workflowId = `certificate/${stuckId}`;
    const query = `CertificateId = ${visibilityString(stuckId)} AND CertState = "issuing" AND RenewalAttempt >= 1`;
    const found = await eventually(async () => {
      const ids = await visibleWorkflowIds(query);
      return ids.length > 0 ? ids : undefined;
    }, { timeoutMs: 90_000, intervalMs: 1_000, what: `visibility to answer ${query}` });
    expect(found).toEqual([workflowId]);

    const { status, body } = await get<CertificateBody>(suite.team.requester, `/v1/certificates/${stuckId}`);
    expect(status).toBe(200);
    expect(body.state).toBe('issuing');
    expect(body.pendingStep).toBe('retry-backoff');
    expect(body.attempt).toBeGreaterThanOrEqual(1);
    expect(body.lastError).not.toBeNull();
    expect(body.lastError!.type).toBeTruthy();
    expect(body.lastError!.message).toContain(join('stuck', 'web'));
    expect(body.lastError!.attempt).toBeGreaterThanOrEqual(1);
    expect(Number.isNaN(Date.parse(body.lastError!.at))).toBe(false);
    expect(Date.parse(body.nextRetryAt!)).toBeGreaterThan(Date.parse(body.lastError!.at));
    expect(body.temporalUiUrl).toBe(`${TEST_TEMPORAL_UI_URL}/namespaces/${suite.harness.namespace}/workflows/${encodeURIComponent(workflowId)}`);

    const listed = await eventually(async () => {
      const { body: page } = await get<{ items: CertificateBody[]; nextCursor: string | null }>(suite.team.requester, '/v1/certificates?stuck=true&minAttempts=1');
      return page.items.some((item) => item.id === stuckId) ? page : undefined;
    }, { timeoutMs: 20_000, what: 'the stuck listing to show the certificate' });
    const item = listed.items.find((candidate) => candidate.id === stuckId)!;
    expect(listed.items.map((candidate) => candidate.id)).not.toContain(healthyId);
    expect(listed.nextCursor).toBeNull();
    expect(item.lastError?.message).toContain(join('stuck', 'web'));
    expect(item.pendingStep).toBe('retry-backoff');
    expect(item.temporalUiUrl).toBe(body.temporalUiUrl);

    // A recent problem with fewer attempts than minAttempts (default 3), younger than stuckAfter (default 1 h): not yet stuck.
    const { body: defaults } = await get<{ items: CertificateBody[] }>(suite.team.requester, '/v1/certificates?stuck=true');
    expect(defaults.items.map((candidate) => candidate.id)).not.toContain(stuckId);
    // Issuing for longer than stuckAfter is stuck whatever the attempt count (CertStateSince); active is not.
    // (The first delivery gives up after 2 local attempts, ~1 s: wait until "issuing" is 5 s old.)
    const waiting = await eventually(async () => {
      const { body: page } = await get<{ items: CertificateBody[] }>(suite.team.requester, '/v1/certificates?stuck=true&minAttempts=1000&stuckAfter=PT5S');
      return page.items.length > 0 ? page : undefined;
    }, { timeoutMs: 20_000, what: 'the certificate to be issuing for longer than 5 s' });
    expect(waiting.items.map((candidate) => candidate.id)).toEqual([stuckId]);

    // Another team sees neither the certificate nor its place in the stuck list.
    expect((await get(suite.otherTeam.requester, `/v1/certificates/${stuckId}`)).status).toBe(404);
    const { body: others } = await get<{ items: CertificateBody[] }>(suite.otherTeam.requester, '/v1/certificates?stuck=true&minAttempts=1');
    expect(others.items.map((candidate) => candidate.id)).not.toContain(stuckId);
  });

  it('refuses a cursor with stuck=true and bad stuckAfter/minAttempts values', async () => {
    for (const query of ['stuck=true&cursor=abc', 'stuck=true&stuckAfter=soon', 'stuck=true&minAttempts=0']) {
      const response = await suite.harness.app.request(`/v1/certificates?${query}`, { headers: authHeaders(suite.team.requester, false) });
      expect(response.status, query).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('escapes values in visibility queries so the server parses them as plain strings', async () => {
    const names = ['quote"inside', 'back\\slash', 'both\\"', "single'quote"];
    const query = stuckVisibilityQuery({ teams: names.map((name, index) => ({ id: `team_${index}`, name })), minAttempts: 1, stuckAfterSeconds: 60, now: new Date() });
    expect(await visibleWorkflowIds(query)).toEqual([]);
    expect(await visibleWorkflowIds(`Team = ${visibilityString(suite.team.teamName)} AND CertificateId = ${visibilityString('x" OR CertificateId != "y')}`)).toEqual([]);
    expect(() => visibilityString('line\nbreak')).toThrow(RangeError);
  });
});
