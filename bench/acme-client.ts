/**
 * The ACME benchmark's light client, a child process of bench/acme.ts (so its CPU is its own and the
 * server in the parent does not share an event loop with it): `flows` acme-client flows at once, one
 * account each, against one ACME server. Driven over IPC:
 *
 *   setup  register the accounts (EAB when given) and make every CSR the runs will need (a fresh P-256
 *          key each): nothing the client would spend on keys is measured
 *   run    `count` issuances, `flows` at a time, each createOrder → getAuthorizations (a pending one is
 *          answered: its http-01 challenge, then polled until valid; pebble with PEBBLE_VA_ALWAYS_VALID)
 *          → finalizeOrder → waitForValidStatus (skipped when finalize answered `valid`, as acme-client's
 *          own getCertificate does) → getCertificate; answers each one's latency and leaf fingerprint
 *
 * acme-client polls with its own backoff (backoffMin · 2^n, capped), ignoring Retry-After; its default
 * (5 s first) would measure the client's sleep, so the parent sets it, the same for every server.
 */
import { createHash, X509Certificate } from 'node:crypto';
import acme from 'acme-client';

export interface ClientSetup {
  type: 'setup';
  directoryUrl: string;
  flows: number;
  /** One per flow, or null (no EAB). */
  eab: { kid: string; hmacKey: string }[] | null;
  /** DNS names of the CSRs, in the order the runs use them. */
  names: string[];
  backoffMinMs: number;
  backoffMaxMs: number;
}

export interface ClientRun {
  type: 'run';
  /** Issuances in this run; they take the next names of the setup's list. */
  count: number;
}

export type ParentMessage = ClientSetup | ClientRun | { type: 'exit' };

export interface RunResult {
  type: 'result';
  seconds: number;
  /** Per successful issuance, in completion order. */
  latenciesMs: number[];
  /** SHA-256 of each downloaded leaf (hex). */
  fingerprints: string[];
  failures: string[];
  /** HTTP requests the flows made (acme-client asks newNonce before every signed request). */
  requests: number;
  cpuSeconds: number;
}

export type ChildMessage = { type: 'ready'; setupSeconds: number } | RunResult | { type: 'error'; message: string };

const send = (message: ChildMessage) => process.send!(message);

let clients: acme.Client[] = [];
let csrs: { name: string; csr: Buffer }[] = [];
let nextCsr = 0;
let requests = 0;

async function setup(message: ClientSetup): Promise<void> {
  const started = performance.now();
  // A server that stops answering fails the issuance after 30 s instead of holding its flow for ever.
  acme.axios.defaults.timeout = 30_000;
  acme.axios.interceptors.request.use((config) => {
    requests++;
    return config;
  });
  clients = await Promise.all(
    Array.from({ length: message.flows }, async (_, index) => {
      const client = new acme.Client({
        directoryUrl: message.directoryUrl,
        accountKey: await acme.crypto.createPrivateEcdsaKey('P-256'),
        ...(message.eab ? { externalAccountBinding: message.eab[index]! } : {}),
        backoffAttempts: 30,
        backoffMin: message.backoffMinMs,
        backoffMax: message.backoffMaxMs,
      });
      await client.createAccount({ termsOfServiceAgreed: true });
      return client;
    }),
  );
  csrs = [];
  for (const name of message.names) {
    const [, csr] = await acme.crypto.createCsr({ commonName: name, altNames: [name] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
    csrs.push({ name, csr });
  }
  send({ type: 'ready', setupSeconds: (performance.now() - started) / 1000 });
}

async function issue(client: acme.Client, name: string, csr: Buffer): Promise<string> {
  const order = await client.createOrder({ identifiers: [{ type: 'dns', value: name }] });
  for (const authorization of await client.getAuthorizations(order)) {
    if (authorization.status === 'valid') continue;
    const challenge = authorization.challenges.find((candidate) => candidate.type === 'http-01') ?? authorization.challenges[0]!;
    await client.completeChallenge(challenge);
    await client.waitForValidStatus(authorization);
  }
  const finalized = await client.finalizeOrder(order, csr);
  const valid = finalized.status === 'valid' ? finalized : await client.waitForValidStatus(finalized);
  const chain = await client.getCertificate(valid);
  const leaf = new X509Certificate(chain);
  if (!leaf.subjectAltName?.includes(`DNS:${name}`)) throw new Error(`the certificate for ${name} names ${leaf.subjectAltName}`);
  return createHash('sha256').update(leaf.raw).digest('hex');
}

async function run(message: ClientRun): Promise<void> {
  const end = nextCsr + message.count;
  if (end > csrs.length) throw new Error(`only ${csrs.length - nextCsr} CSRs are left for ${message.count} issuances`);
  const result: RunResult = { type: 'result', seconds: 0, latenciesMs: [], fingerprints: [], failures: [], requests: 0, cpuSeconds: 0 };
  const requestsBefore = requests;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      for (let index = nextCsr++; index < end; index = nextCsr++) {
        const { name, csr } = csrs[index]!;
        const issuanceStarted = performance.now();
        try {
          result.fingerprints.push(await issue(client, name, csr));
          result.latenciesMs.push(performance.now() - issuanceStarted);
        } catch (error) {
          result.failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    }),
  );
  nextCsr = end;
  result.seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  result.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  result.requests = requests - requestsBefore;
  send(result);
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'exit') process.exit(0);
  const work = message.type === 'setup' ? setup(message) : run(message);
  work.catch((error: unknown) => send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
});
