/**
 * Property-based fuzzing (fast-check) of the API's request bodies against the real app, Postgres and
 * Temporal. Each route gets schema-aware mutations of a valid body (wrong types, nulls, huge and
 * Unicode strings, negative/huge/fractional numbers, extra and missing fields, deep nesting), whole
 * arbitrary JSON values, and raw bytes under arbitrary content types.
 *
 * For every request: never a 5xx; every 4xx is application/problem+json with type, title, status
 * (the HTTP status) and detail; a refusal changes nothing — every table's rows are the same before
 * and after (contents, not only counts; the tokens' last-use time excepted) — and, per route, no
 * workflow is started on the test's task queue beyond those of the accepted requests.
 * Run counts: test/support/fuzz.ts (CERTFLOW_FUZZ_SCALE, CERTFLOW_FUZZ_SEED).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequence, tlv } from '../../ca/der-writer.js';
import { buildCsr, commonNameAttribute, csrPem } from '../support/csr-builder.js';
import { fuzzParameters, fuzzTimeout } from '../support/fuzz.js';
import { byteMutation, mutateBytes, mutateTree, readTree, treeMutation, writeTree } from '../fuzz/der-mutations.js';
import { authHeaders, createToken, eventually, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const suite = useIntegrationSuite('api-fuzz', {
  team: { policy: { allowedDomains: ['fuzz.test'], allowWildcards: true, allowIpSans: true, maxValidity: 'P30D', keyAlgorithms: ['ECDSA-P256', 'Ed25519'] } },
});

/** Columns that change on every authenticated request, whatever its outcome. */
const VOLATILE_COLUMNS = new Set(['api_tokens.last_used_at', 'agents.last_seen_at']);

let snapshotQuery: string;
let tokens: { requester: string; admin: string; approver: string; responder: string; agent: string };
let certificateId: string;
let rootIssuerId: string;

/** Every table's row count and a hash of its rows, as one text (tables and columns read from the catalog once). */
async function snapshot(): Promise<Record<string, string>> {
  const { rows } = await suite.harness.pool.query<Record<string, string>>(snapshotQuery);
  return rows[0]!;
}

async function workflowCount(): Promise<number> {
  return suite.harness.client.workflow.count(`TaskQueue = "${suite.harness.taskQueue}"`).then((result) => result.count);
}

beforeAll(async () => {
  const { rows } = await suite.harness.pool.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE')
      ORDER BY table_name, ordinal_position`,
  );
  const columns = new Map<string, string[]>();
  for (const { table_name: table, column_name: column } of rows) {
    if (VOLATILE_COLUMNS.has(`${table}.${column}`)) continue;
    columns.set(table, [...(columns.get(table) ?? []), `"${column}"`]);
  }
  snapshotQuery = `SELECT ${[...columns.entries()]
    .map(([table, list]) => `(SELECT count(*) || ':' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') FROM (SELECT ${list.join(', ')} FROM "${table}") r) AS "${table}"`)
    .join(', ')}`;

  const team = suite.team;
  const mint = async (role: string) => (await createToken(suite.harness, team.teamId, role)).token;
  tokens = { requester: team.requester, admin: team.admin, approver: await mint('approver'), responder: await mint('responder'), agent: '' };
  const agent = await suite.harness.app.request('/v1/agents', { method: 'POST', headers: authHeaders(team.admin), body: JSON.stringify({ team: team.teamName, name: 'fuzz-host' }) });
  expect(agent.status, await agent.clone().text()).toBe(201);
  tokens.agent = ((await agent.json()) as { token: string }).token;
  const created = await suite.harness.app.request('/v1/certificates', {
    method: 'POST',
    headers: authHeaders(team.requester),
    body: JSON.stringify({ team: team.teamName, dnsNames: ['base.fuzz.test'], validity: 'P1D' }),
  });
  expect(created.status, await created.clone().text()).toBe(202);
  certificateId = ((await created.json()) as { id: string }).id;
  const issuers = (await (await suite.harness.app.request('/v1/issuers', { headers: authHeaders(TEST_BOOTSTRAP_TOKEN, false) })).json()) as { id: string; kind: string }[];
  rootIssuerId = issuers.find((issuer) => issuer.kind === 'root')!.id;
});

interface Route {
  name: string;
  path: () => string;
  token: () => string;
  /** A valid body, the starting point of the mutations. */
  valid: () => Record<string, unknown>;
  /** The field that carries a PEM CSR, fuzzed with mutated CSRs. */
  csrField?: string;
  /** The route honours an Idempotency-Key header, fuzzed too. */
  idempotencyKey?: boolean;
  /** Whether an accepted request starts a workflow on the task queue (counted against the Temporal check). */
  startsWorkflow?: (body: unknown) => boolean;
  runs: number;
}

const ROUTES: Route[] = [
  {
    name: 'POST /v1/certificates',
    path: () => '/v1/certificates',
    token: () => tokens.requester,
    valid: () => ({
      team: suite.team.teamName,
      commonName: 'a.fuzz.test',
      dnsNames: ['a.fuzz.test', '*.b.fuzz.test'],
      ipAddresses: ['10.0.0.1'],
      profile: 'tls-server',
      keyAlgorithm: 'ECDSA-P256',
      validity: 'P1D',
      renewBefore: 3600,
      destinations: [{ type: 'file', directory: 'fuzz/a', verify: { endpoints: [{ host: 'a.fuzz.test', port: 443 }], timeout: 'PT1M' } }],
    }),
    csrField: 'csr',
    idempotencyKey: true,
    startsWorkflow: () => true,
    runs: 800,
  },
  {
    name: 'POST /v1/teams',
    path: () => '/v1/teams',
    token: () => TEST_BOOTSTRAP_TOKEN,
    valid: () => ({
      name: 'fuzz-team',
      policy: {
        allowedDomains: ['fuzz.example'],
        allowWildcards: false,
        allowIpSans: false,
        maxValidity: 'P10D',
        keyAlgorithms: ['ECDSA-P256'],
        profiles: ['tls-server'],
        approval: { wildcards: true, usualZones: ['fuzz.example'], validityAbove: 'P5D', newNames: true, deadline: 'P1D', escalateAfter: 'PT1H' },
      },
    }),
    runs: 400,
  },
  { name: 'POST /v1/teams/:id/tokens', path: () => `/v1/teams/${suite.team.teamId}/tokens`, token: () => tokens.admin, valid: () => ({ role: 'requester', expiresIn: 'P1D' }), runs: 200 },
  {
    name: 'POST /v1/bulk-reissues',
    path: () => '/v1/bulk-reissues',
    token: () => tokens.responder,
    valid: () => ({ selector: { teams: [suite.team.teamName], sanPattern: '*.fuzz.test', expiresAfter: '2020-01-01T00:00:00Z' }, reason: 'fuzz', dryRun: true, maxConcurrent: 5, maxPerSecond: 5 }),
    startsWorkflow: (body) => (body as { dryRun?: unknown }).dryRun !== true,
    runs: 400,
  },
  { name: 'POST /v1/certificates/:id/approve', path: () => `/v1/certificates/${certificateId}/approve`, token: () => tokens.approver, valid: () => ({ reason: 'looks right' }), runs: 200 },
  { name: 'POST /v1/certificates/:id/reject', path: () => `/v1/certificates/${certificateId}/reject`, token: () => tokens.approver, valid: () => ({ reason: 'not needed' }), runs: 200 },
  { name: 'POST /v1/certificates/:id/renew', path: () => `/v1/certificates/${certificateId}/renew`, token: () => tokens.requester, valid: () => ({ reason: 'fuzz' }), runs: 160 },
  { name: 'POST /v1/agents', path: () => '/v1/agents', token: () => tokens.admin, valid: () => ({ team: suite.team.teamName, name: 'fuzz-agent' }), runs: 200 },
  {
    name: 'POST /v1/agent/csr',
    path: () => '/v1/agent/csr',
    token: () => tokens.agent,
    valid: () => ({ certificateId, generation: 1, csr: csrPem(VALID_CSR) }),
    csrField: 'csr',
    runs: 300,
  },
  {
    name: 'POST /v1/issuers/:id/compromise (the root: a valid body is refused with 409 after parsing)',
    path: () => `/v1/issuers/${rootIssuerId}/compromise`,
    token: () => TEST_BOOTSTRAP_TOKEN,
    valid: () => ({ reason: 'fuzz' }),
    runs: 160,
  },
];

// ---------------------------------------------------------------------------------------------
// Generators.

/** A valid CSR for a name of the fuzz team's zone (its CN; no SANs). */
const VALID_CSR = buildCsr([commonNameAttribute('a.fuzz.test')]);
/** The CSR that made the API answer 500 before (a DerError escaped readCsr): an unknown signature OID that ends in the middle of an arc. */
const MALFORMED_OID_CSR = buildCsr([commonNameAttribute('a.fuzz.test')], sequence(tlv(0x06, Buffer.from([0x2a, 0x86]))));
/** PEM text of the valid CSR, of the one above, and of structural mutations of both (test/fuzz/der-mutations.ts). */
const csrText: fc.Arbitrary<string> = fc
  .tuple(fc.boolean(), fc.array(treeMutation, { maxLength: 2 }), fc.array(byteMutation, { maxLength: 2 }))
  .map(([malformedOid, tree, bytes]) => csrPem(mutateBytes(writeTree(mutateTree(readTree(malformedOid ? MALFORMED_OID_CSR : VALID_CSR), tree)), bytes)));

const hugeString = fc.constantFrom(300 * 1024, 70 * 1024, 5000).map((length) => 'x'.repeat(length));
/** Arrays or objects nested `depth` deep, written directly as JSON text (building the value would be slower). */
const deepJson = fc.tuple(fc.integer({ min: 50, max: 20_000 }), fc.boolean()).map(([depth, objects]) => (objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`));
/** A JSON text that stands for a value (so deep nesting can be spliced into a body). */
const weirdValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('null', 'true', 'false', '0', '-1', '-0', '1e308', '-1e308', '1.5', '2147483648', '9007199254740993', '""', '[]', '{}', '"\\u0000"', '"\\ud800"', '" "', '"P-1D"', '"PT0S"', '"P99999999999D"'),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.string({ unit: 'grapheme', maxLength: 50 }).map((value) => JSON.stringify(value)),
  fc.integer().map(String),
  fc.double({ noNaN: true }).map((value) => JSON.stringify(value)),
  hugeString.map((value) => JSON.stringify(value)),
  deepJson,
);

/**
 * Replaces, removes or adds one member somewhere in `body` (the path's steps are taken modulo the
 * keys there), in place; the new value is a placeholder string, swapped for its JSON text at the end
 * (so deep or huge values are never parsed or cloned here). Returns the body (a new one at the root).
 */
function mutateJson(body: unknown, path: number[], action: 'replace' | 'remove' | 'add', placeholder: string, extraKey: string): unknown {
  let parent: Record<string | number, unknown> | null = null;
  let key: string | number | null = null;
  let current: unknown = body;
  for (const step of path) {
    if (current === null || typeof current !== 'object') break;
    const keys = Array.isArray(current) ? current.map((_, index) => index) : Object.keys(current);
    if (keys.length === 0) break;
    parent = current as Record<string | number, unknown>;
    key = keys[step % keys.length]!;
    current = parent[key];
  }
  if (parent === null || key === null) {
    if (action !== 'add' || body === null || typeof body !== 'object') return placeholder;
    if (Array.isArray(body)) body.push(placeholder);
    else setMember(body as Record<string, unknown>, extraKey, placeholder);
    return body;
  }
  if (action === 'remove') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (action === 'add') {
    if (Array.isArray(parent)) parent.push(placeholder);
    else setMember(parent, extraKey, placeholder);
  } else {
    parent[key] = placeholder;
  }
  return body;
}

/** An own, enumerable member even for "__proto__" (an assignment would set the prototype instead). */
function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const jsonMutation = fc.record({
  path: fc.array(fc.nat(), { maxLength: 5 }),
  action: fc.constantFrom<'replace' | 'remove' | 'add'>('replace', 'replace', 'remove', 'add'),
  value: weirdValue,
  extraKey: fc.constantFrom('extra', '__proto__', 'constructor', '', 'dnsNames '),
});

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'application/problem+json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'multipart/form-data; boundary=x', ''];

/** What is sent: a body text (or bytes) and its content type. */
interface Sent {
  body: string | Uint8Array;
  contentType: string;
  label: string;
  idempotencyKey?: string;
}

/** Idempotency keys: absent mostly; else printable ASCII of any length (the API allows 1–255). */
const idempotencyKey = fc.option(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), maxLength: 300 }), { freq: 3 });

const bodyFor = (route: Route): fc.Arbitrary<Sent> =>
  route.idempotencyKey
    ? fc.tuple(bodyOnlyFor(route), idempotencyKey).map(([sent, key]) => (key === null ? sent : { ...sent, idempotencyKey: key, label: `${sent.label}, Idempotency-Key "${key.slice(0, 20)}"` }))
    : bodyOnlyFor(route);

const bodyOnlyFor = (route: Route): fc.Arbitrary<Sent> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.array(jsonMutation, { minLength: 1, maxLength: 3 }).map((mutations) => {
        let body: unknown = route.valid();
        mutations.forEach((mutation, index) => (body = mutateJson(body, mutation.path, mutation.action, `__fuzz_value_${index}__`, mutation.extraKey)));
        let text = JSON.stringify(body);
        mutations.forEach((mutation, index) => (text = text.replace(`"__fuzz_value_${index}__"`, () => mutation.value)));
        return { body: text, contentType: 'application/json', label: `mutated: ${mutations.map((m) => `${m.action}@${m.path.join('.')}=${m.value.slice(0, 40)}`).join(', ')}` };
      }),
    },
    ...(route.csrField
      ? [
          {
            weight: 3,
            arbitrary: csrText.map((csr) => ({ body: JSON.stringify({ ...route.valid(), [route.csrField!]: csr }), contentType: 'application/json', label: `csr: ${csr.slice(36, 80)}` })),
          },
        ]
      : []),
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => ({ body: JSON.stringify(value) ?? 'null', contentType: 'application/json', label: 'arbitrary JSON' })) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ body: text, contentType: 'application/json', label: 'arbitrary text as JSON' })) },
    { weight: 2, arbitrary: fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...CONTENT_TYPES)).map(([bytes, contentType]) => ({ body: bytes, contentType, label: `raw bytes as ${contentType || 'no content type'}` })) },
    { weight: 1, arbitrary: fc.constantFrom(...CONTENT_TYPES).map((contentType) => ({ body: JSON.stringify(route.valid()), contentType, label: `valid JSON as ${contentType || 'no content type'}` })) },
  );

// ---------------------------------------------------------------------------------------------
// The checks.

interface Outcome {
  status: number;
  text: string;
}

async function send(route: Route, sent: Sent): Promise<Outcome> {
  const headers: Record<string, string> = { Authorization: `Bearer ${route.token()}` };
  if (sent.contentType) headers['Content-Type'] = sent.contentType;
  if (sent.idempotencyKey !== undefined) headers['Idempotency-Key'] = sent.idempotencyKey;
  const response = await suite.harness.app.request(route.path(), { method: 'POST', headers, body: typeof sent.body === 'string' ? sent.body : new Uint8Array(sent.body) });
  const text = await response.text();
  expect(response.status, `${route.name} (${sent.label}) answered ${response.status}: ${text.slice(0, 500)}`).toBeLessThan(500);
  if (response.status >= 400) {
    expect(response.headers.get('content-type'), `${route.name} (${sent.label}): ${text.slice(0, 300)}`).toBe('application/problem+json');
    const problem = JSON.parse(text) as Record<string, unknown>;
    expect(problem).toMatchObject({ type: expect.any(String), title: expect.any(String), status: response.status, detail: expect.any(String) });
    if (problem['errors'] !== undefined) {
      expect(Array.isArray(problem['errors'])).toBe(true);
      for (const error of problem['errors'] as unknown[]) expect(error).toMatchObject({ field: expect.any(String), message: expect.any(String) });
    }
  }
  return { status: response.status, text };
}

const statuses = new Map<string, Map<number, number>>();
function countStatus(route: Route, status: number): void {
  const counts = statuses.get(route.name) ?? new Map<number, number>();
  counts.set(status, (counts.get(status) ?? 0) + 1);
  statuses.set(route.name, counts);
}

describe('fuzz: API bodies against the real app', () => {
  for (const route of ROUTES) {
    it(
      `ok/${route.name}: no 5xx, problems well-formed, refusals change nothing`,
      async () => {
        const workflowsBefore = await workflowCount();
        let workflowsStarted = 0;
        let before = await snapshot();
        await fc.assert(
          fc.asyncProperty(bodyFor(route), async (sent) => {
            const outcome = await send(route, sent);
            countStatus(route, outcome.status);
            const after = await snapshot();
            if (outcome.status >= 400) {
              expect(after, `${route.name} refused (${outcome.status}, ${sent.label}) but changed the database: ${outcome.text.slice(0, 300)}`).toEqual(before);
            } else if (route.startsWorkflow?.(JSON.parse(typeof sent.body === 'string' ? sent.body : Buffer.from(sent.body).toString()))) {
              workflowsStarted++;
            }
            before = after;
          }),
          fuzzParameters(`API ${route.name}`, route.runs),
        );
        // Visibility is eventually consistent: wait until it counts what was started, then make sure it counts no more.
        const expected = workflowsBefore + workflowsStarted;
        await eventually(async () => ((await workflowCount()) >= expected ? true : undefined), { timeoutMs: 10_000, what: `${expected} workflows on the task queue` });
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(await workflowCount(), `${route.name}: workflows started beyond the ${workflowsStarted} accepted requests`).toBe(expected);
        console.log(`[fuzz] ${route.name}: statuses ${JSON.stringify(Object.fromEntries(statuses.get(route.name) ?? []))}, workflows started ${workflowsStarted}`);
      },
      fuzzTimeout(120_000),
    );
  }

  // Found by this fuzz test: a CSR whose unknown signature OID ends in the middle of an arc made readCsr throw a DerError, which the API answered with 500.
  it('fail/a csr with a malformed signature algorithm OID is a 400 naming the csr, not a 500', async () => {
    const before = await snapshot();
    const response = await suite.harness.app.request('/v1/certificates', {
      method: 'POST',
      headers: authHeaders(tokens.requester),
      body: JSON.stringify({ team: suite.team.teamName, validity: 'P1D', csr: csrPem(MALFORMED_OID_CSR) }),
    });
    const text = await response.text();
    expect(response.status, text).toBe(400);
    expect(JSON.parse(text)).toMatchObject({ status: 400, errors: [{ field: 'csr', message: expect.stringMatching(/ends in the middle of an arc/) }] });
    expect(await snapshot()).toEqual(before);
  });

  it(
    'ok/POST /pki/ocsp: arbitrary bytes are answered with an OCSP response, never an error, and change nothing',
    async () => {
      const before = await snapshot();
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 9000 }), fc.constantFrom('application/ocsp-request', 'application/json', ''), async (bytes, contentType) => {
          const response = await suite.harness.app.request('/pki/ocsp', { method: 'POST', headers: contentType ? { 'Content-Type': contentType } : {}, body: new Uint8Array(bytes) });
          expect(response.status).toBe(200);
          expect(response.headers.get('content-type')).toBe('application/ocsp-response');
          // An unsuccessful OCSPResponse: SEQUENCE { ENUMERATED status } (malformedRequest = 1).
          expect(Buffer.from(await response.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0x30, 0x03]));
        }),
        fuzzParameters('API POST /pki/ocsp raw bytes', 400),
      );
      expect(await snapshot()).toEqual(before);
    },
    fuzzTimeout(60_000),
  );
});
