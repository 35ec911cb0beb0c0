/**
 * Secrets stay where they belong. After a full scenario (teams, tokens, an agent, a server-made key
 * delivered to a file and a webhook, a CSR, a renewal, a revocation, the listings) every place a
 * secret could leak to is searched for every secret of the run: the worker's log (a real child
 * process), this process's output (the API's error log), every API answer, every Temporal history
 * of the task queue, and every column of every table in Postgres (sealed columns included: a sealed
 * value never contains its plaintext).
 */
import { createPrivateKey, webcrypto } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { openPrivateKey } from '../../ca/key-encryption.js';
import { x509 } from '../../ca/x509.js';
import { issuers } from '../../db/schema.js';
import { findFreePort } from '../../devservices/free-port.js';
import { authHeaders, createToken, startChildWorker, TEST_BOOTSTRAP_TOKEN, TEST_KEK_HEX, type ChildWorker } from '../support/harness.js';
import { certificatesAs, type App, useIntegrationSuite } from '../support/integration-suite.js';

const WEBHOOK_SECRET = 'sink-test-webhook-secret-7f3a9c2e5b8d1f4a6c0e';

/** Every answer the API gave during the scenario, headers and body. */
const answers: string[] = [];
/** What this process wrote to stdout/stderr during the scenario (the API's log goes here). */
const ownOutput: string[] = [];
let receiver: Server | null = null;
let worker: ChildWorker | null = null;

const suite = useIntegrationSuite('secret-sink', {
  team: true,
  teardown: async () => {
    await worker?.kill('SIGTERM');
    if (receiver) await new Promise<void>((resolve) => receiver!.close(() => resolve()));
  },
});

/** The app, recording each answer it gives. */
function recordingApp(app: App): App {
  return {
    async request(path, init) {
      const response = await app.request(path, init);
      const body = await response.clone().arrayBuffer();
      answers.push(`${headerText(response.headers)}\n${Buffer.from(body).toString('utf8')}\n${Buffer.from(body).toString('base64')}`);
      return response;
    },
  };
}

function headerText(headers: Headers): string {
  const lines: string[] = [];
  headers.forEach((value, name) => lines.push(`${name}: ${value}`));
  return lines.join('\n');
}

function captureOwnOutput(): () => void {
  const originals = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  const tap =
    (original: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      ownOutput.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = tap(originals.out) as typeof process.stdout.write;
  process.stderr.write = tap(originals.err) as typeof process.stderr.write;
  // Vitest routes console.* of a test file around process.stdout, so the console is tapped too.
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const consoleOriginals = methods.map((method) => console[method]);
  for (const method of methods) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      ownOutput.push(args.map((arg) => (arg instanceof Error ? `${arg.stack ?? arg.message} ${JSON.stringify(arg)}` : typeof arg === 'string' ? arg : inspect(arg, { depth: 8 }))).join(' '));
      original(...args);
    };
  }
  return () => {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
    methods.forEach((method, index) => (console[method] = consoleOriginals[index]!));
  };
}

/** Searchable forms of a secret: the middle of each encoding, so a truncated copy is found too. */
function needlesOf(label: string, secret: Buffer | string): { label: string; needle: string }[] {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  const forms = typeof secret === 'string' ? [secret] : [bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')];
  return forms.map((form) => {
    const middle = form.length > 48 ? form.slice(Math.floor(form.length / 2) - 16, Math.floor(form.length / 2) + 16) : form;
    return { label, needle: middle.toLowerCase() };
  });
}

/** The private-key secrets of a PKCS#8 key: the DER itself and, for EC/OKP keys, the private scalar. */
function keyNeedles(label: string, pkcs8: Buffer): { label: string; needle: string }[] {
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const jwk = key.export({ format: 'jwk' });
  const scalar = typeof jwk.d === 'string' ? needlesOf(`${label} (private scalar)`, Buffer.from(jwk.d, 'base64url')) : [];
  return [...needlesOf(`${label} (PKCS#8)`, pkcs8), ...scalar];
}

async function keyPemsUnder(directory: string): Promise<Buffer[]> {
  const found: Buffer[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name === 'key.pem') {
      const pem = await readFile(join(entry.parentPath, entry.name), 'utf8');
      found.push(createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' }));
    }
  }
  return found;
}

/** Temporal histories as text: payload bytes decoded as UTF-8 and also given as base64. */
async function historiesText(): Promise<string[]> {
  const texts: string[] = [];
  for await (const execution of suite.harness.client.workflow.list({ query: `TaskQueue = "${suite.harness.taskQueue}"` })) {
    const history = await suite.harness.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    texts.push(
      JSON.stringify(history, (_key, value: unknown) =>
        value instanceof Uint8Array ? `${Buffer.from(value).toString('utf8')} ${Buffer.from(value).toString('base64')}` : typeof value === 'bigint' ? value.toString() : value,
      ),
    );
  }
  return texts;
}

/** Every column of every table, as text (bytea as hex). */
async function databaseText(): Promise<{ where: string; text: string }[]> {
  const tables = await suite.harness.pool.query<{ table_name: string }>(`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`);
  const rows: { where: string; text: string }[] = [];
  for (const { table_name: table } of tables.rows) {
    const result = await suite.harness.pool.query<{ row: string }>(`select t::text as row from "${table}" t`);
    for (const { row } of result.rows) rows.push({ where: table, text: row });
  }
  return rows;
}

describe('secret sinks', () => {
  it('no log, API answer, Temporal history or database column holds a key, token or secret', { timeout: 240_000 }, async () => {
    const stopCapture = captureOwnOutput();
    try {
      const api = recordingApp(suite.harness.app);
      worker = startChildWorker(suite.harness);
      await worker.ready;

      const port = await findFreePort();
      receiver = createServer((request, response) => {
        request.resume();
        request.on('end', () => response.writeHead(204).end());
      });
      await new Promise<void>((resolve) => receiver!.listen(port, '127.0.0.1', resolve));

      const teamId = suite.team.teamId;
      const approver = await createToken(suite.harness, teamId, 'approver');
      // The answers that show a secret once, by design, are the only ones not recorded (token mints, agent registration).
      const agentResponse = await suite.harness.app.request('/v1/agents', { method: 'POST', headers: authHeaders(suite.team.admin), body: JSON.stringify({ team: teamId, name: 'sink-host' }) });
      expect(agentResponse.status).toBe(201);
      const agent = (await agentResponse.json()) as { token: string };
      expect((await api.request('/v1/agent/assignments', { headers: authHeaders(agent.token, false) })).status).toBe(200);

      const certificates = certificatesAs(api, suite.team.requester);
      const directory = 'sink';
      const server = await certificates.create({
        team: suite.team.teamName,
        dnsNames: ['sink.example.test'],
        validity: 'P1D',
        destinations: [
          { type: 'file', directory },
          { type: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: WEBHOOK_SECRET },
        ],
      });
      await certificates.waitFor(server.id, (view) => view.state === 'active', { timeoutMs: 60_000, what: 'the server-key certificate issued and delivered' });
      await certificates.renew(server.id, 'secret sink renewal');
      await certificates.waitFor<{ state: string; currentVersion: { generation: number } | null }>(server.id, (view) => view.state === 'active' && view.currentVersion?.generation === 2, {
        timeoutMs: 60_000,
        what: 'the renewal delivered',
      });

      const csrKeys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
      const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=csr.example.test', keys: csrKeys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'csr.example.test' }])] });
      const fromCsr = await certificates.create({ team: suite.team.teamName, dnsNames: ['csr.example.test'], validity: 'P1D', csr: csr.toString('pem') });
      await certificates.waitFor(fromCsr.id, (view) => view.state === 'active', { timeoutMs: 60_000, what: 'the CSR certificate issued' });
      const revoke = await api.request(`/v1/certificates/${fromCsr.id}/revoke`, { method: 'POST', headers: authHeaders(suite.team.requester), body: JSON.stringify({ reason: 'superseded' }) });
      expect(revoke.status).toBe(202);
      await certificates.waitFor(fromCsr.id, (view) => view.state === 'revoked', { timeoutMs: 60_000, what: 'the revocation' });

      for (const path of [`/v1/certificates/${server.id}`, `/v1/certificates/${server.id}/certificate.pem`, `/v1/certificates?team=${teamId}`, `/v1/certificates/${server.id}/audit-events`, '/v1/issuers']) {
        expect((await api.request(path, { headers: authHeaders(suite.team.admin, false) })).status).toBe(200);
      }
      // A refused request with a secret in its body must not echo it either.
      await api.request('/v1/certificates', { method: 'POST', headers: authHeaders(suite.team.requester), body: JSON.stringify({ team: suite.team.teamName, dnsNames: ['x.invalid.nope'], destinations: [{ type: 'webhook', url: 'ftp://nope', secret: WEBHOOK_SECRET }] }) });

      // The secrets of the run.
      const leafKeys = await keyPemsUnder(join(suite.harness.deliveryRoot, directory));
      expect(leafKeys.length).toBeGreaterThanOrEqual(1);
      const csrPkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', csrKeys.privateKey));
      const issuerRows = await suite.harness.db.select().from(issuers);
      const kek = Buffer.from(TEST_KEK_HEX, 'hex');
      const needles = [
        ...[TEST_BOOTSTRAP_TOKEN, suite.team.requester, suite.team.admin, approver.token, agent.token].flatMap((token, index) => needlesOf(`API/agent token #${index}`, token)),
        ...needlesOf('webhook secret', WEBHOOK_SECRET),
        ...needlesOf('KEK', kek),
        ...leafKeys.flatMap((key, index) => keyNeedles(`server-made leaf key #${index}`, key)),
        ...keyNeedles("the CSR client's key", csrPkcs8),
        ...issuerRows.flatMap((row) => (row.sealedPrivateKey === null ? [] : keyNeedles(`CA key of ${row.id}`, openPrivateKey(kek, row.sealedPrivateKey, row.id)))),
      ];
      expect(needles.length).toBeGreaterThan(20);

      const sinks: { where: string; text: string }[] = [
        { where: 'worker log', text: worker.output() },
        ...answers.map((text, index) => ({ where: `API answer #${index}`, text })),
        ...(await historiesText()).map((text, index) => ({ where: `Temporal history #${index}`, text })),
        ...(await databaseText()).map(({ where, text }) => ({ where: `table ${where}`, text })),
      ];
      stopCapture();
      sinks.push({ where: 'this process (API log)', text: ownOutput.join('') });
      expect(sinks.filter((sink) => sink.where.startsWith('Temporal history')).length).toBeGreaterThanOrEqual(3);
      expect(sinks.some((sink) => sink.where === 'table certificate_keys')).toBe(true);

      const scan = (places: { where: string; text: string }[]) =>
        [...new Set(places.flatMap((sink) => {
          const haystack = sink.text.toLowerCase();
          return needles.filter(({ needle }) => haystack.includes(needle)).map(({ label }) => `${label} in ${sink.where}`);
        }))];
      expect(scan(sinks)).toEqual([]);

      // The same scan finds each kind of secret where one is planted, in each encoding (it is not blind).
      const planted = [
        { where: 'planted PEM body', text: `log line ${leafKeys[0]!.toString('base64')} end` },
        { where: 'planted hex', text: `{"k":"${leafKeys[0]!.toString('hex').toUpperCase()}"}` },
        { where: 'planted token', text: `Authorization: Bearer ${suite.team.requester}` },
        { where: 'planted secret', text: `secret=${WEBHOOK_SECRET}` },
      ];
      for (const place of planted) expect(scan([place]), place.where).not.toEqual([]);
    } finally {
      stopCapture();
    }
  });
});
