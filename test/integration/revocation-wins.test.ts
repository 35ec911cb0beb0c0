/**
 * Revocation always wins, on the real Temporal dev server and real Postgres, checked by openssl as a
 * relying party: a revoke cancels a rollout that waits on an endpoint that never serves the new
 * version (202 in under 2 s, OCSP `revoked` within 5 s); a revocation during a Postgres outage of
 * 60 s completes by itself once Postgres is back; a certificate whose workflow was terminated can
 * still be revoked; and a version recorded after its certificate's revocation is recorded revoked.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeSignal, statusQuery } from '../../contracts/lifecycle-messages.js';
import { certificates, certificateVersions } from '../../db/schema.js';
import { recordIssuedVersion } from '../../db/versions.js';
import { authHeaders, createHarness, createTeamWithTokens, eventually, startInProcessWorker, type Harness, type InProcessWorker } from '../support/harness.js';
import { makePostgresRefuseConnections, type PostgresOutage } from '../support/postgres-outage.js';
import { revokeAndWait } from '../support/revoke.js';
import { startTlsService, type TlsService } from '../support/tls-service.js';

const run = promisify(execFile);

let harness: Harness;
let worker: InProcessWorker;
let team: Awaited<ReturnType<typeof createTeamWithTokens>>;
let server: ReturnType<typeof serve>;
let baseUrl: string;
let outage: PostgresOutage | null = null;
const services: TlsService[] = [];

beforeAll(async () => {
  harness = await createHarness('revocation-wins');
  worker = await startInProcessWorker(harness);
  team = await createTeamWithTokens(harness);
  server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: harness.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await outage?.end();
  await Promise.all(services.map((service) => service.close()));
  await new Promise((resolve) => server?.close(resolve));
  await worker?.stop();
  await harness?.close();
});

interface View {
  state: string;
  pendingStep: string | null;
  currentVersion: { serial: string; generation: number } | null;
}

async function view(id: string): Promise<View> {
  return (await (await harness.app.request(`/v1/certificates/${id}`, { headers: authHeaders(team.requester, false) })).json()) as View;
}

async function create(label: string, destinations: unknown[]): Promise<string> {
  const response = await harness.app.request('/v1/certificates', {
    method: 'POST',
    headers: authHeaders(team.requester),
    body: JSON.stringify({ team: team.teamName, dnsNames: [`${label}.example.test`], validity: 'P1D', destinations }),
  });
  expect(response.status, await response.clone().text()).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

const until = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000) => eventually(check, { timeoutMs, intervalMs: 100, what });

/** What `openssl ocsp` says of the certificate's current version, asking Certflow's responder over HTTP. */
async function ocspStatus(id: string, dir: string): Promise<string> {
  const bundle = await (await harness.app.request(`/v1/certificates/${id}/certificate.pem`, { headers: authHeaders(team.requester, false) })).text();
  const [leaf, intermediate] = bundle.split(/(?<=-----END CERTIFICATE-----)\n?/).filter((pem) => pem.includes('BEGIN'));
  const roots = await (await harness.app.request('/pki/roots.pem')).text();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'leaf.pem'), `${leaf!.trim()}\n`);
  await writeFile(join(dir, 'intermediate.pem'), `${intermediate!.trim()}\n`);
  await writeFile(join(dir, 'chain.pem'), `${intermediate!.trim()}\n${roots.trim()}\n`);
  const { stdout } = await run('openssl', ['ocsp', '-no_nonce', '-issuer', join(dir, 'intermediate.pem'), '-cert', join(dir, 'leaf.pem'), '-url', `${baseUrl}/pki/ocsp`, '-CAfile', join(dir, 'chain.pem')]);
  return stdout.replace(`${join(dir, 'leaf.pem')}: `, '').split('\n')[0]!.trim();
}

describe('revocation always wins', () => {
  it('cancels a rollout waiting on an endpoint that never serves it: 202 in under 2 s, OCSP revoked within 5 s', async () => {
    // An endpoint that never serves anything Certflow delivered: it has no certificate files at all.
    const service = await startTlsService(join(harness.deliveryRoot, 'never-served'));
    services.push(service);
    const id = await create('never-served', [{ type: 'file', directory: 'waiting', verify: { endpoints: [{ host: '127.0.0.1', port: service.port, serverName: 'never-served.example.test' }], timeout: 'PT1H' } }]);
    await until('the rollout to wait on verification', async () => ((await view(id)).pendingStep === 'verify' ? true : undefined));
    expect(await ocspStatus(id, join(harness.deliveryRoot, 'ocsp-before'))).toBe('good');

    const { answer, elapsedMs } = await revokeAndWait(harness.app, id, team.requester, 'keyCompromise');
    expect(elapsedMs).toBeLessThan(2_000);
    expect(['revoking', 'revoked']).toContain(answer.state);
    const started = Date.now();
    await until('OCSP to say revoked', async () => ((await ocspStatus(id, join(harness.deliveryRoot, 'ocsp-after'))) === 'revoked' ? true : undefined), 5_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    const status = await harness.client.workflow.getHandle(`certificate/${id}`).query(statusQuery);
    expect(status).toMatchObject({ state: 'revoked', pendingStep: 'none' });
  });

  it('completes a revocation by itself after Postgres was down for 60 s', async () => {
    const id = await create('outage', [{ type: 'file', directory: 'outage' }]);
    await until('the first version', async () => ((await view(id)).state === 'active' ? true : undefined));
    const handle = harness.client.workflow.getHandle(`certificate/${id}`);

    // The API needs Postgres to authorize; with it down, the revocation reaches the workflow as the API sends it.
    outage = await makePostgresRefuseConnections(harness.databaseUrl);
    await handle.signal(revokeSignal, { reason: 'keyCompromise' });
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    expect((await handle.query(statusQuery)).state).toBe('revoking');
    await outage.end();
    outage = null;

    await until('the revocation to complete', async () => ((await handle.query(statusQuery)).state === 'revoked' ? true : undefined), 60_000);
    const versions = await harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));
    expect(versions.map((version) => [version.status, version.revocationReason])).toEqual([['revoked', 'keyCompromise']]);
    expect((await view(id)).state).toBe('revoked');
  });

  it('revokes a certificate whose workflow was terminated', async () => {
    const id = await create('terminated', [{ type: 'file', directory: 'terminated' }]);
    await until('the first version', async () => ((await view(id)).state === 'active' ? true : undefined));
    const handle = harness.client.workflow.getHandle(`certificate/${id}`);
    await handle.terminate('an operator ended it by mistake');

    await revokeAndWait(harness.app, id, team.requester, 'cessationOfOperation');
    const versions = await harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));
    expect(versions.every((version) => version.status === 'revoked' && version.revocationReason === 'cessationOfOperation')).toBe(true);
    expect((await harness.client.workflow.getHandle(`certificate/${id}`).describe()).status.name).toBe('COMPLETED');
  });

  it('records revoked a version signed while its certificate was being revoked, never an active orphan', async () => {
    const id = await create('late', [{ type: 'file', directory: 'late' }]);
    await until('the first version', async () => ((await view(id)).state === 'active' ? true : undefined));
    await revokeAndWait(harness.app, id, team.requester, 'superseded');
    const [first] = await harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));

    // What an issuance that was already signing records when it finishes after the revocation.
    const late = await recordIssuedVersion(harness.db, { ...first!, id: `${first!.id}-late`, generation: 2, serial: `${first!.serial}ff`, fingerprintSha256: randomBytes(32).toString('hex'), status: 'active', revokedAt: null, revocationReason: null });
    expect(late).toMatchObject({ status: 'revoked', revocationReason: 'superseded' });
    const [certificate] = await harness.db.select().from(certificates).where(eq(certificates.id, id));
    expect(certificate).toMatchObject({ state: 'revoked', currentVersionId: first!.id });
  });
});
