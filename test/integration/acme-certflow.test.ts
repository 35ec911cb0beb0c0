/**
 * The ACME conformance cases (test/support/acme-conformance.ts) against Certflow's own ACME listener
 * over HTTPS: certbot 2.1 and 5.8, lego 4.9 and cert-manager's forked client register with EAB,
 * validate http-01 and dns-01 for real (the worker resolves through pebble-challtestsrv), renew,
 * revoke, and follow ARI. `makeRenewalDue` is a real bulk reissue of the certificate: the client's
 * replacement must arrive as the certificate's next generation and the bulk operation count it reissued.
 */
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { canonicalSerial } from '../../ca/serial.js';
import { acmeChallenges, certificates, certificateVersions } from '../../db/schema.js';
import { acmeConformanceCases, type AcmeTarget } from '../support/acme-conformance.js';
import { startTestAcmeServer, type TestAcmeServer } from '../support/acme-server.js';
import { startChalltestsrv, type Challtestsrv } from '../support/challtestsrv.js';
import { authHeaders, createHarness, createTeamWithTokens, eventually, startInProcessWorker, TEST_BOOTSTRAP_TOKEN, type Harness, type InProcessWorker, type Team } from '../support/harness.js';

const ZONE = 'conformance.example.test';
const run = promisify(execFile);
/** RFC 5280 reason codes of Certflow's reason names. */
const REASON_CODES: Record<string, number> = { unspecified: 0, keyCompromise: 1, affiliationChanged: 3, superseded: 4, cessationOfOperation: 5 };

let harness: Harness;
let worker: InProcessWorker;
let challtestsrv: Challtestsrv;
let acme: TestAcmeServer;
let team: Team;
let tlsAlpnPort: number;
const bulkOperations: { id: string; certificateId: string }[] = [];
const target = {} as AcmeTarget;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function versionOf(certPem: string) {
  const fingerprint = createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex');
  const [version] = await harness.db.select().from(certificateVersions).where(eq(certificateVersions.fingerprintSha256, fingerprint));
  if (!version) throw new Error('Certflow has no version with that certificate');
  return version;
}

/** A bulk reissue of the certificate, as an incident responder would start it; resolves once the client has been asked (ARI). */
async function makeRenewalDue(certPem: string): Promise<void> {
  const { certificateId } = await versionOf(certPem);
  const response = await acme.app.request('/v1/bulk-reissues', {
    method: 'POST',
    headers: authHeaders(TEST_BOOTSTRAP_TOKEN),
    body: JSON.stringify({ selector: { certificateIds: [certificateId] }, reason: 'conformance: renew now' }),
  });
  expect(response.status, await response.clone().text()).toBe(202);
  bulkOperations.push({ id: ((await response.json()) as { id: string }).id, certificateId });
  await eventually(
    async () => {
      const [row] = await harness.db.select().from(certificates).where(eq(certificates.id, certificateId));
      return row?.renewalRequestedAt ? true : undefined;
    },
    { timeoutMs: 30_000, what: 'the lifecycle asking the client to renew' },
  );
}

beforeAll(async () => {
  const tools = inject('acmeTools');
  if (!tools) throw new Error(`ACME tools missing: ${inject('acmeToolsError')}`);
  harness = await createHarness('acme-certflow');
  challtestsrv = await startChalltestsrv({ binary: tools.pebbleChalltestsrv });
  const httpPort = await freePort();
  tlsAlpnPort = await freePort();
  worker = await startInProcessWorker(harness, harness.temporalAddress, {
    acmeValidation: { httpPort, tlsAlpnPort, dnsResolver: challtestsrv.dnsAddress, timeoutMs: 5_000 },
  });
  team = await createTeamWithTokens(harness, { policy: { allowedDomains: [ZONE] } });
  acme = await startTestAcmeServer(harness);
  const dir = await fs.mkdtemp(path.join(inject('tempDir'), 'acme-certflow-'));
  const runId = path.basename(dir).replace(/[^a-z0-9]/gi, '').toLowerCase().slice(-6);
  let names = 0;
  Object.assign(target, {
    server: { directoryUrl: acme.directoryUrl, caBundlePath: acme.rootsFile },
    tools,
    rootPem: () => fs.readFile(acme.rootsFile, 'utf8'),
    eab: async () => {
      const response = await acme.app.request(`/v1/teams/${team.teamId}/acme-eab-keys`, { method: 'POST', headers: authHeaders(team.admin) });
      expect(response.status).toBe(201);
      const key = (await response.json()) as { keyId: string; hmacKey: string };
      return { kid: key.keyId, hmacKey: key.hmacKey };
    },
    domain: (label: string) => `${label}-${runId}-${++names}.${ZONE}`,
    challtestsrv,
    httpPort,
    workDir: (label: string) => fs.mkdtemp(path.join(dir, `${label}-`)),
    revocationStatus: async (serialHex: string) => {
      const serial = canonicalSerial(serialHex);
      const deadline = Date.now() + 30_000;
      for (;;) {
        const [version] = await harness.db.select().from(certificateVersions).where(eq(certificateVersions.serial, serial));
        if (version?.status === 'revoked' || Date.now() > deadline) {
          return { revoked: version?.status === 'revoked', reason: version?.revocationReason ? REASON_CODES[version.revocationReason]! : null };
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    makeRenewalDue,
  } satisfies AcmeTarget);
}, 600_000);

afterAll(async () => {
  await acme?.stop();
  await worker?.stop();
  await challtestsrv?.stop();
  await harness?.close();
});

describe("Certflow's ACME server", () => {
  acmeConformanceCases(() => target, { ari: true });

  it('validates tls-alpn-01 (RFC 8737) for lego, the one client here that answers it', async () => {
    const workDir = await target.workDir('lego-tls-alpn');
    const name = target.domain('tls-alpn');
    const eab = await target.eab();
    const { stdout, stderr } = await run('lego', [
      '--server', acme.directoryUrl, '--accept-tos', '--email', 'ops@conformance.example.test', '--eab', '--kid', eab.kid, '--hmac', eab.hmacKey,
      '--path', workDir, '--tls', '--tls.port', `127.0.0.1:${tlsAlpnPort}`, '--domains', name, 'run',
    ], { env: { ...process.env, LEGO_CA_CERTIFICATES: acme.rootsFile }, timeout: 90_000 });
    const leaf = new X509Certificate(await fs.readFile(path.join(workDir, 'certificates', `${name}.crt`), 'utf8'));
    expect(leaf.subjectAltName, stdout + stderr).toBe(`DNS:${name}`);
    const [challenge] = await harness.db.select().from(acmeChallenges).where(and(eq(acmeChallenges.type, 'tls-alpn-01'), eq(acmeChallenges.status, 'valid')));
    expect(challenge).toBeDefined();
  });

  it('lists every client certificate under the team with source "acme", and counts the ARI renewal as reissued by the bulk operation', async () => {
    const rows = await harness.db.select().from(certificates).where(eq(certificates.teamId, team.teamId));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((row) => row.source === 'acme' && row.keySource === 'acme' && row.acmeAccountId?.startsWith('acct_'))).toBe(true);
    expect(bulkOperations).toHaveLength(1);
    const [bulk] = bulkOperations;
    const view = await eventually(
      async () => {
        const response = await acme.app.request(`/v1/bulk-reissues/${bulk!.id}`, { headers: authHeaders(TEST_BOOTSTRAP_TOKEN) });
        const body = (await response.json()) as { state: string; counts: { reissued: number }; acmeClients: { signalled: number; awaitingClient: number } };
        return body.state === 'completed' ? body : undefined;
      },
      { timeoutMs: 60_000, what: 'the bulk operation to complete' },
    );
    expect(view.counts.reissued).toBe(1);
    expect(view.acmeClients).toEqual({ signalled: 1, awaitingClient: 0 });
    const versions = await harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, bulk!.certificateId));
    expect(versions.map((version) => version.generation).sort()).toEqual([1, 2]);
  });
});
