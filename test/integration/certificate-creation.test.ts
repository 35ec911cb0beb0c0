/**
 * `POST /v1/certificates` against real Postgres and Temporal: `Idempotency-Key` (replay, another
 * body, concurrent duplicates, scoping, refusals) and starts whose answer is lost. Temporal faults
 * are made by wrapping the real client: the real start happens (or not) and the API is told
 * something else, as a dropped connection or an expired deadline would.
 */
import { ServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.js';
import { authHeaders, createHarness, createTeamWithTokens, type Harness } from '../support/harness.js';

type Team = Awaited<ReturnType<typeof createTeamWithTokens>>;
type Operation = () => Promise<unknown>;

/** What a lost connection or an expired deadline looks like to the client (gRPC status `code`). */
function grpcFailure(code: number, details: string): ServiceError {
  return new ServiceError('Failed to start Workflow', { cause: Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} }) });
}
const DEADLINE_EXCEEDED = 4;
const UNAVAILABLE = 14;
const INVALID_ARGUMENT = 3;

/** The real client, with `workflow.start` and handles' `describe` passed through the given faults. */
function withFaults(real: Client, faults: { start?: (realStart: Operation) => Promise<unknown>; describe?: (realDescribe: Operation) => Promise<unknown> }): Client {
  const bound = (target: object, property: string | symbol) => {
    const value = Reflect.get(target, property, target) as unknown;
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  };
  const workflow = new Proxy(real.workflow, {
    get(target, property) {
      if (property === 'start' && faults.start) return (...args: Parameters<Client['workflow']['start']>) => faults.start!(() => target.start(...args));
      if (property === 'getHandle' && faults.describe) {
        return (...args: Parameters<Client['workflow']['getHandle']>) =>
          new Proxy(target.getHandle(...args), {
            get: (handle, name) => (name === 'describe' ? () => faults.describe!(() => handle.describe()) : bound(handle, name)),
          });
      }
      return bound(target, property);
    },
  });
  return new Proxy(real, { get: (target, property) => (property === 'workflow' ? workflow : bound(target, property)) });
}

describe('POST /v1/certificates: Idempotency-Key and lost start answers', () => {
  let harness: Harness;
  let team: Team;
  let otherTeam: Team;
  let serial = 0;

  beforeAll(async () => {
    harness = await createHarness('creation');
    team = await createTeamWithTokens(harness);
    otherTeam = await createTeamWithTokens(harness);
  });

  afterAll(async () => {
    await harness?.close();
  });

  /** The app of the harness, or one whose Temporal client has faults. */
  function appWith(temporal: Client) {
    return createApp({ ...harness.apiDeps, temporal });
  }

  const newName = () => `create-${++serial}-${Date.now()}.example.test`;
  const bodyFor = (who: Team, name: string, extra: Record<string, unknown> = {}) => ({ team: who.teamName, dnsNames: [name], validity: 'P7D', ...extra });

  async function post(body: unknown, options: { key?: string; who?: Team; app?: ReturnType<typeof createApp>; raw?: string } = {}) {
    const headers: Record<string, string> = authHeaders((options.who ?? team).requester);
    if (options.key !== undefined) headers['Idempotency-Key'] = options.key;
    const response = await (options.app ?? harness.app).request('/v1/certificates', { method: 'POST', headers, body: options.raw ?? JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type'), headers: response.headers, text, body: JSON.parse(text) as Record<string, unknown> };
  }

  async function certificatesNamed(name: string): Promise<string[]> {
    const { rows } = await harness.pool.query<{ id: string }>('select id from certificates where $1 = any(dns_names) order by created_at', [name]);
    return rows.map((row) => row.id);
  }

  async function workflowExists(certificateId: string): Promise<boolean> {
    try {
      await harness.client.workflow.getHandle(`certificate/${certificateId}`).describe();
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  const key = () => `key-${crypto.randomUUID()}`;

  it('answers a repeated request with the first answer and creates nothing more', async () => {
    const name = newName();
    const idempotencyKey = key();
    const first = await post(bodyFor(team, name), { key: idempotencyKey });
    expect(first.status).toBe(202);
    // The same request with its keys in another order and other whitespace is the same request.
    const raw = `{ "validity": "P7D",\n "dnsNames": ["${name}"], "team": "${team.teamName}" }`;
    const again = await post(null, { key: idempotencyKey, raw });
    // Status and body byte for byte.
    expect(again).toEqual({ ...first, headers: again.headers });
    expect(again.headers.get('location')).toBe(`/v1/certificates/${String(first.body['id'])}`);
    expect(await certificatesNamed(name)).toEqual([first.body['id']]);
    expect(await workflowExists(String(first.body['id']))).toBe(true);
  });

  it('refuses the key with another request (422) and changes nothing', async () => {
    const name = newName();
    const idempotencyKey = key();
    const first = await post(bodyFor(team, name), { key: idempotencyKey });
    expect(first.status).toBe(202);
    const otherName = newName();
    const other = await post(bodyFor(team, otherName), { key: idempotencyKey });
    expect(other.status).toBe(422);
    expect(other.contentType).toBe('application/problem+json');
    expect(other.body).toMatchObject({ type: '/problems/idempotency-key-reused', status: 422, detail: expect.stringMatching(/different request body/) });
    expect(await certificatesNamed(otherName)).toEqual([]);
    // The first answer is still the one the key gives.
    expect((await post(bodyFor(team, name), { key: idempotencyKey })).body).toEqual(first.body);
  });

  it('creates one certificate for concurrent duplicates; each gets its answer or a 409 to retry', async () => {
    const name = newName();
    const idempotencyKey = key();
    const answers = await Promise.all(Array.from({ length: 16 }, () => post(bodyFor(team, name), { key: idempotencyKey })));
    const accepted = answers.filter((answer) => answer.status === 202);
    const busy = answers.filter((answer) => answer.status === 409);
    expect(accepted.length + busy.length).toBe(answers.length);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    for (const answer of busy) {
      expect(answer.body).toMatchObject({ type: '/problems/idempotency-key-in-progress' });
      expect(answer.headers.get('retry-after')).toBe('1');
    }
    expect(new Set(accepted.map((answer) => answer.text)).size).toBe(1);
    expect(await certificatesNamed(name)).toEqual([accepted[0]!.body['id']]);
  });

  it("keeps each team's keys apart", async () => {
    const idempotencyKey = key();
    const mine = await post(bodyFor(team, newName()), { key: idempotencyKey });
    const theirs = await post(bodyFor(otherTeam, newName()), { key: idempotencyKey, who: otherTeam });
    expect([mine.status, theirs.status]).toEqual([202, 202]);
    expect(theirs.body['id']).not.toBe(mine.body['id']);
  });

  it('refuses a malformed key with 400 and creates nothing', async () => {
    for (const bad of ['two words', 'k'.repeat(256), 'clé']) {
      const name = newName();
      const answer = await post(bodyFor(team, name), { key: bad });
      expect(answer.status, bad).toBe(400);
      expect(answer.body).toMatchObject({ errors: [{ field: 'Idempotency-Key' }] });
      expect(await certificatesNamed(name)).toEqual([]);
    }
  });

  it('forgets the key of a refused request, so the fixed request can use it', async () => {
    const idempotencyKey = key();
    const refused = await post(bodyFor(team, 'outside.example.org'), { key: idempotencyKey });
    expect(refused.status).toBe(403);
    const name = newName();
    const fixed = await post(bodyFor(team, name), { key: idempotencyKey });
    expect(fixed.status).toBe(202);
    expect(await certificatesNamed(name)).toEqual([fixed.body['id']]);
  });

  it('keeps a certificate whose start succeeded but was reported as failed', async () => {
    const app = appWith(
      withFaults(harness.client, {
        start: async (realStart) => {
          await realStart();
          throw grpcFailure(DEADLINE_EXCEEDED, 'context deadline exceeded');
        },
      }),
    );
    const name = newName();
    const idempotencyKey = key();
    const answer = await post(bodyFor(team, name), { key: idempotencyKey, app });
    expect(answer.status).toBe(202);
    const id = String(answer.body['id']);
    expect(await certificatesNamed(name)).toEqual([id]);
    expect(await workflowExists(id)).toBe(true);
    // The key remembers it: the ordinary app answers the same.
    expect((await post(bodyFor(team, name), { key: idempotencyKey })).body).toEqual(answer.body);
  });

  it('starts again when the answer was lost and Temporal says the workflow does not exist', async () => {
    let starts = 0;
    const app = appWith(
      withFaults(harness.client, {
        start: async (realStart) => {
          starts += 1;
          if (starts === 1) throw grpcFailure(UNAVAILABLE, 'connection reset');
          return realStart();
        },
      }),
    );
    const name = newName();
    const answer = await post(bodyFor(team, name), { app });
    expect(answer.status).toBe(202);
    expect(starts).toBe(2);
    expect(await workflowExists(String(answer.body['id']))).toBe(true);
    expect(await certificatesNamed(name)).toEqual([answer.body['id']]);
  });

  it('keeps the row and answers 503 with its id when the start cannot be confirmed; a retry with the key resumes it', async () => {
    const app = appWith(
      withFaults(harness.client, {
        start: async () => {
          throw grpcFailure(DEADLINE_EXCEEDED, 'context deadline exceeded');
        },
        describe: async () => {
          throw grpcFailure(UNAVAILABLE, 'no healthy upstream');
        },
      }),
    );
    const name = newName();
    const idempotencyKey = key();
    const unconfirmed = await post(bodyFor(team, name), { key: idempotencyKey, app });
    expect(unconfirmed.status).toBe(503);
    expect(unconfirmed.contentType).toBe('application/problem+json');
    const id = String(unconfirmed.body['certificateId']);
    expect(unconfirmed.body).toMatchObject({ type: '/problems/start-unconfirmed', workflowId: `certificate/${id}`, detail: expect.stringMatching(/same Idempotency-Key/) });
    expect(await certificatesNamed(name)).toEqual([id]);
    expect(await workflowExists(id)).toBe(false);

    const resumed = await post(bodyFor(team, name), { key: idempotencyKey });
    expect(resumed.status).toBe(202);
    expect(resumed.body['id']).toBe(id);
    expect(await workflowExists(id)).toBe(true);
    expect(await certificatesNamed(name)).toEqual([id]);
  });

  it('keeps the row without a key too, and names it in the 503', async () => {
    const app = appWith(
      withFaults(harness.client, {
        start: async () => {
          throw grpcFailure(UNAVAILABLE, 'connection reset');
        },
        describe: async () => {
          throw grpcFailure(DEADLINE_EXCEEDED, 'context deadline exceeded');
        },
      }),
    );
    const name = newName();
    const answer = await post(bodyFor(team, name), { app });
    expect(answer.status).toBe(503);
    expect(await certificatesNamed(name)).toEqual([answer.body['certificateId']]);
  });

  it('deletes the row and forgets the key when Temporal refused the start', async () => {
    const app = appWith(
      withFaults(harness.client, {
        start: async () => {
          throw grpcFailure(INVALID_ARGUMENT, 'search attribute not registered');
        },
      }),
    );
    const name = newName();
    const idempotencyKey = key();
    const refused = await post(bodyFor(team, name), { key: idempotencyKey, app });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ type: '/problems/unavailable', detail: expect.stringMatching(/nothing was created/) });
    expect(await certificatesNamed(name)).toEqual([]);

    const retried = await post(bodyFor(team, name), { key: idempotencyKey });
    expect(retried.status).toBe(202);
    expect(await certificatesNamed(name)).toEqual([retried.body['id']]);
  });
});
