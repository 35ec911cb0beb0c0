/**
 * The `agent` destination end to end: the API served over real HTTP, the real `certflow agent`
 * as a child process, the lifecycle workflow on the real Temporal dev server. The agent makes the
 * key, sends a CSR, deploys the issued certificate with its key, runs its own reload command and
 * reports the serial; the key never reaches the server; a renewal makes a new key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { certificateKeys, deliveries } from '../../db/schema.js';
import { authHeaders } from '../support/harness.js';
import { certificatesAs, overHttp, useIntegrationSuite } from '../support/integration-suite.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

type AgentProcess = { process: ChildProcess; output: () => string; exited: Promise<number | null> };
let agent: AgentProcess | null = null;
let brokenAgent: AgentProcess | null = null;

const suite = useIntegrationSuite('agent', {
  worker: true,
  team: true,
  http: true,
  teardown: () => {
    for (const running of [agent, brokenAgent]) {
      if (running && running.process.exitCode === null && running.process.signalCode === null) running.process.kill('SIGKILL');
    }
  },
});

/** The requester's certificates, over real HTTP as the agent's API is. */
const certificates = () => certificatesAs(overHttp(suite.baseUrl), suite.team.requester);

async function api(path: string, init: { method?: string; token: string; body?: unknown }): Promise<Response> {
  return fetch(`${suite.baseUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: authHeaders(init.token, init.body !== undefined),
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
}

function startAgent(configFile: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cmd/agent.ts', '--config', configFile], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, output: () => output, exited };
}

interface CertificateView {
  state: string;
  currentVersion: { id: string; serial: string; generation: number } | null;
}

async function activeVersion(id: string, generation: number): Promise<CertificateView['currentVersion'] & object> {
  const view = await certificates().waitFor<CertificateView>(id, (current) => current.state === 'active' && current.currentVersion?.generation === generation, {
    timeoutMs: 60_000,
    what: `generation ${generation} of ${id} to be active (agent output:\n${agent?.output() ?? ''})`,
  });
  return view.currentVersion!;
}

const spkiOfKey = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' });
const spkiOfCertificate = (pem: string) => new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });

describe('agent destination', () => {
  it('registers agents only for team admins, and agent endpoints take only agent tokens', async () => {
    expect((await api('/v1/agents', { method: 'POST', token: suite.team.requester, body: { team: suite.team.teamName, name: 'nope' } })).status).toBe(403);
    const noTeam = await api('/v1/agents', { method: 'POST', token: suite.team.admin, body: { team: 'team_doesnotexist', name: 'nope' } });
    expect(noTeam.status).toBe(404);
    expect(noTeam.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await api('/v1/agent/assignments', { token: suite.team.admin })).status).toBe(401);
    expect((await api('/v1/agent/assignments', { token: `cfa_${'a'.repeat(20)}_${'b'.repeat(40)}` })).status).toBe(401);
  });

  it('makes the key on the host, deploys, reloads, reports the serial, and renews with a new key', async () => {
    const registered = await api('/v1/agents', { method: 'POST', token: suite.team.admin, body: { team: suite.team.teamName, name: 'web-1' } });
    expect(registered.status).toBe(201);
    const { id: agentId, token } = (await registered.json()) as { id: string; token: string };
    expect(token).toMatch(/^cfa_[a-z2-7]{20}_[A-Za-z0-9_-]{40}$/);
    expect((await api('/v1/agents', { method: 'POST', token: suite.team.admin, body: { team: suite.team.teamName, name: 'web-1' } })).status).toBe(409);
    expect((await api('/v1/agent/nothing-here', { token })).status).toBe(404);
    expect((await api('/v1/certificates', { token })).status).toBe(401);

    const home = join(suite.harness.deliveryRoot, 'agent-host');
    await mkdir(home, { recursive: true });
    const target = join(home, 'tls', 'web');
    const reloads = join(home, 'reloads.log');
    const configFile = join(home, 'agent.json');
    await writeFile(join(home, 'token'), `${token}\n`, { mode: 0o600 });
    await writeFile(
      configFile,
      JSON.stringify({
        apiUrl: suite.baseUrl,
        tokenFile: 'token',
        stateDirectory: 'state',
        pollInterval: 0.3,
        targets: { web: { directory: 'tls/web', reload: [process.execPath, '-e', `require('fs').appendFileSync(${JSON.stringify(reloads)}, 'reloaded\\n')`] } },
      }),
    );
    agent = startAgent(configFile);

    const { id } = await certificates().create({
      team: suite.team.teamName,
      commonName: 'agent.example.test',
      dnsNames: ['agent.example.test'],
      validity: 'P7D',
      destinations: [{ type: 'agent', agentId, target: 'web', reportTimeout: 60 }],
    });

    const first = await activeVersion(id, 1);
    const certPem = await readFile(join(target, 'cert.pem'), 'utf8');
    const keyPem = await readFile(join(target, 'key.pem'), 'utf8');
    expect(new X509Certificate(certPem).serialNumber.toLowerCase()).toBe(first.serial);
    expect(spkiOfKey(keyPem).equals(spkiOfCertificate(certPem))).toBe(true);
    expect(await readFile(join(target, 'fullchain.pem'), 'utf8')).toContain(certPem.trim());
    // The key never left the host: the server holds no key for this certificate.
    expect(await suite.harness.db.select().from(certificateKeys).where(eq(certificateKeys.certificateId, id))).toEqual([]);
    expect(await readFile(reloads, 'utf8')).toBe('reloaded\n');
    const [firstRow] = await suite.harness.db.select().from(deliveries).where(eq(deliveries.versionId, first.id));
    expect(firstRow).toMatchObject({ agentId, deployedSerial: first.serial, state: 'delivered' });

    // A second, different CSR for an answered request is a conflict, and changes nothing.
    const again = await api('/v1/agent/csr', { method: 'POST', token, body: { certificateId: id, generation: 1, csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' } });
    expect(again.status).toBe(409);
    expect((await api('/v1/agent/csr', { method: 'POST', token, body: { certificateId: id, generation: 9, csr: 'x' } })).status).toBe(404);

    await certificates().renew(id);
    const second = await activeVersion(id, 2);
    expect(second.serial).not.toBe(first.serial);
    const renewedCert = await readFile(join(target, 'cert.pem'), 'utf8');
    const renewedKey = await readFile(join(target, 'key.pem'), 'utf8');
    expect(new X509Certificate(renewedCert).serialNumber.toLowerCase()).toBe(second.serial);
    expect(spkiOfKey(renewedKey).equals(spkiOfCertificate(renewedCert))).toBe(true);
    expect(spkiOfKey(renewedKey).equals(spkiOfKey(keyPem))).toBe(false);
    expect(await suite.harness.db.select().from(certificateKeys).where(eq(certificateKeys.certificateId, id))).toEqual([]);
    const [secondRow] = await suite.harness.db.select().from(deliveries).where(eq(deliveries.versionId, second.id));
    expect(secondRow).toMatchObject({ agentId, deployedSerial: second.serial, state: 'delivered' });
    expect(await readFile(reloads, 'utf8')).toBe('reloaded\nreloaded\n');

    // SIGTERM stops the agent cleanly.
    agent.process.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('a reload that keeps failing ends in rollout_failed at the report deadline, naming the agent\'s error', async () => {
    const registered = await api('/v1/agents', { method: 'POST', token: suite.team.admin, body: { team: suite.team.teamId, name: 'web-broken' } });
    expect(registered.status).toBe(201);
    const { id: agentId, token } = (await registered.json()) as { id: string; token: string };
    const home = join(suite.harness.deliveryRoot, 'broken-host');
    await mkdir(home, { recursive: true });
    const configFile = join(home, 'agent.json');
    await writeFile(
      configFile,
      JSON.stringify({
        apiUrl: suite.baseUrl,
        token,
        stateDirectory: 'state',
        pollInterval: 0.3,
        targets: { web: { directory: 'tls/web', reload: [process.execPath, '-e', 'process.stderr.write("bad config"); process.exit(3)'] } },
      }),
    );
    brokenAgent = startAgent(configFile);

    const { id } = await certificates().create({
      team: suite.team.teamName,
      dnsNames: ['broken.example.test'],
      validity: 'P7D',
      destinations: [{ type: 'agent', agentId, target: 'web', reportTimeout: 5 }],
    });
    const view = await certificates().waitFor<CertificateView>(id, (current) => current.state === 'rollout_failed', {
      timeoutMs: 60_000,
      what: `rollout of ${id} to fail (agent output:\n${brokenAgent.output()})`,
    });
    const [row] = await suite.harness.db.select().from(deliveries).where(eq(deliveries.versionId, view.currentVersion!.id));
    expect(row!.state).toBe('failed');
    expect(row!.lastError).toMatch(/did not report deploying serial [0-9a-f]+ within 5 s; last report: .*reload command .* failed \(exit status 3\): bad config/);
    // Withdrawn: the agent is no longer offered the rollout it could not deploy.
    const assignments = (await (await api('/v1/agent/assignments', { token })).json()) as { deployments: unknown[] };
    expect(assignments.deployments).toEqual([]);
    brokenAgent.process.kill('SIGTERM');
    expect(await brokenAgent.exited).toBe(0);
  });
});
