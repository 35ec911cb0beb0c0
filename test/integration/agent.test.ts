/**
 * The `agent` destination end to end: the API served over real HTTP, the real `certflow agent`
 * as a child process, the lifecycle workflow on the real Temporal dev server. The agent makes the
 * key, sends a CSR, deploys the issued certificate with its key, runs its own reload command and
 * reports the serial; the key never reaches the server; a renewal makes a new key.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateKeys, deliveries } from '../../db/schema.js';
import { authHeaders, createHarness, createTeamWithTokens, eventually, startInProcessWorker, type Harness, type InProcessWorker } from '../support/harness.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

let harness: Harness;
let worker: InProcessWorker;
let team: Awaited<ReturnType<typeof createTeamWithTokens>>;
let server: ReturnType<typeof serve>;
let apiUrl: string;
type AgentProcess = { process: ChildProcess; output: () => string; exited: Promise<number | null> };
let agent: AgentProcess | null = null;
let brokenAgent: AgentProcess | null = null;

beforeAll(async () => {
  harness = await createHarness('agent');
  worker = await startInProcessWorker(harness);
  team = await createTeamWithTokens(harness);
  server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: harness.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const running of [agent, brokenAgent]) {
    if (running && running.process.exitCode === null && running.process.signalCode === null) running.process.kill('SIGKILL');
  }
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await worker?.stop();
  await harness?.close();
});

async function api(path: string, init: { method?: string; token: string; body?: unknown }): Promise<Response> {
  return fetch(`${apiUrl}${path}`, {
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
  return eventually(
    async () => {
      const response = await api(`/v1/certificates/${id}`, { token: team.requester });
      const view = (await response.json()) as CertificateView;
      return view.state === 'active' && view.currentVersion?.generation === generation ? view.currentVersion : undefined;
    },
    { timeoutMs: 60_000, what: `generation ${generation} of ${id} to be active (agent output:\n${agent?.output() ?? ''})` },
  );
}

const spkiOfKey = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' });
const spkiOfCertificate = (pem: string) => new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });

describe('agent destination', () => {
  it('registers agents only for team admins, and agent endpoints take only agent tokens', async () => {
    expect((await api('/v1/agents', { method: 'POST', token: team.requester, body: { team: team.teamName, name: 'nope' } })).status).toBe(403);
    const noTeam = await api('/v1/agents', { method: 'POST', token: team.admin, body: { team: 'team_doesnotexist', name: 'nope' } });
    expect(noTeam.status).toBe(404);
    expect(noTeam.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect((await api('/v1/agent/assignments', { token: team.admin })).status).toBe(401);
    expect((await api('/v1/agent/assignments', { token: `cfa_${'a'.repeat(20)}_${'b'.repeat(40)}` })).status).toBe(401);
  });

  it('makes the key on the host, deploys, reloads, reports the serial, and renews with a new key', async () => {
    const registered = await api('/v1/agents', { method: 'POST', token: team.admin, body: { team: team.teamName, name: 'web-1' } });
    expect(registered.status).toBe(201);
    const { id: agentId, token } = (await registered.json()) as { id: string; token: string };
    expect(token).toMatch(/^cfa_[a-z2-7]{20}_[A-Za-z0-9_-]{40}$/);
    expect((await api('/v1/agents', { method: 'POST', token: team.admin, body: { team: team.teamName, name: 'web-1' } })).status).toBe(409);
    expect((await api('/v1/agent/nothing-here', { token })).status).toBe(404);
    expect((await api('/v1/certificates', { token })).status).toBe(401);

    const home = join(harness.deliveryRoot, 'agent-host');
    await mkdir(home, { recursive: true });
    const target = join(home, 'tls', 'web');
    const reloads = join(home, 'reloads.log');
    const configFile = join(home, 'agent.json');
    await writeFile(join(home, 'token'), `${token}\n`, { mode: 0o600 });
    await writeFile(
      configFile,
      JSON.stringify({
        apiUrl,
        tokenFile: 'token',
        stateDirectory: 'state',
        pollInterval: 0.3,
        targets: { web: { directory: 'tls/web', reload: [process.execPath, '-e', `require('fs').appendFileSync(${JSON.stringify(reloads)}, 'reloaded\\n')`] } },
      }),
    );
    agent = startAgent(configFile);

    const created = await api('/v1/certificates', {
      method: 'POST',
      token: team.requester,
      body: {
        team: team.teamName,
        commonName: 'agent.example.test',
        dnsNames: ['agent.example.test'],
        validity: 'P7D',
        destinations: [{ type: 'agent', agentId, target: 'web', reportTimeout: 60 }],
      },
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };

    const first = await activeVersion(id, 1);
    const certPem = await readFile(join(target, 'cert.pem'), 'utf8');
    const keyPem = await readFile(join(target, 'key.pem'), 'utf8');
    expect(new X509Certificate(certPem).serialNumber.toLowerCase()).toBe(first.serial);
    expect(spkiOfKey(keyPem).equals(spkiOfCertificate(certPem))).toBe(true);
    expect(await readFile(join(target, 'fullchain.pem'), 'utf8')).toContain(certPem.trim());
    // The key never left the host: the server holds no key for this certificate.
    expect(await harness.db.select().from(certificateKeys).where(eq(certificateKeys.certificateId, id))).toEqual([]);
    expect(await readFile(reloads, 'utf8')).toBe('reloaded\n');
    const [firstRow] = await harness.db.select().from(deliveries).where(eq(deliveries.versionId, first.id));
    expect(firstRow).toMatchObject({ agentId, deployedSerial: first.serial, state: 'delivered' });

    // A second, different CSR for an answered request is a conflict, and changes nothing.
    const again = await api('/v1/agent/csr', { method: 'POST', token, body: { certificateId: id, generation: 1, csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n' } });
    expect(again.status).toBe(409);
    expect((await api('/v1/agent/csr', { method: 'POST', token, body: { certificateId: id, generation: 9, csr: 'x' } })).status).toBe(404);

    expect((await api(`/v1/certificates/${id}/renew`, { method: 'POST', token: team.requester })).status).toBe(202);
    const second = await activeVersion(id, 2);
    expect(second.serial).not.toBe(first.serial);
    const renewedCert = await readFile(join(target, 'cert.pem'), 'utf8');
    const renewedKey = await readFile(join(target, 'key.pem'), 'utf8');
    expect(new X509Certificate(renewedCert).serialNumber.toLowerCase()).toBe(second.serial);
    expect(spkiOfKey(renewedKey).equals(spkiOfCertificate(renewedCert))).toBe(true);
    expect(spkiOfKey(renewedKey).equals(spkiOfKey(keyPem))).toBe(false);
    expect(await harness.db.select().from(certificateKeys).where(eq(certificateKeys.certificateId, id))).toEqual([]);
    const [secondRow] = await harness.db.select().from(deliveries).where(eq(deliveries.versionId, second.id));
    expect(secondRow).toMatchObject({ agentId, deployedSerial: second.serial, state: 'delivered' });
    expect(await readFile(reloads, 'utf8')).toBe('reloaded\nreloaded\n');

    // SIGTERM stops the agent cleanly.
    agent.process.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('a reload that keeps failing ends in rollout_failed at the report deadline, naming the agent\'s error', async () => {
    const registered = await api('/v1/agents', { method: 'POST', token: team.admin, body: { team: team.teamId, name: 'web-broken' } });
    expect(registered.status).toBe(201);
    const { id: agentId, token } = (await registered.json()) as { id: string; token: string };
    const home = join(harness.deliveryRoot, 'broken-host');
    await mkdir(home, { recursive: true });
    const configFile = join(home, 'agent.json');
    await writeFile(
      configFile,
      JSON.stringify({
        apiUrl,
        token,
        stateDirectory: 'state',
        pollInterval: 0.3,
        targets: { web: { directory: 'tls/web', reload: [process.execPath, '-e', 'process.stderr.write("bad config"); process.exit(3)'] } },
      }),
    );
    brokenAgent = startAgent(configFile);

    const created = await api('/v1/certificates', {
      method: 'POST',
      token: team.requester,
      body: {
        team: team.teamName,
        dnsNames: ['broken.example.test'],
        validity: 'P7D',
        destinations: [{ type: 'agent', agentId, target: 'web', reportTimeout: 5 }],
      },
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    const view = await eventually(
      async () => {
        const response = await api(`/v1/certificates/${id}`, { token: team.requester });
        const body = (await response.json()) as CertificateView;
        return body.state === 'rollout_failed' ? body : undefined;
      },
      { timeoutMs: 60_000, what: `rollout of ${id} to fail (agent output:\n${brokenAgent.output()})` },
    );
    const [row] = await harness.db.select().from(deliveries).where(eq(deliveries.versionId, view.currentVersion!.id));
    expect(row!.state).toBe('failed');
    expect(row!.lastError).toMatch(/did not report deploying serial [0-9a-f]+ within 5 s; last report: .*reload command .* failed \(exit status 3\): bad config/);
    // Withdrawn: the agent is no longer offered the rollout it could not deploy.
    const assignments = (await (await api('/v1/agent/assignments', { token })).json()) as { deployments: unknown[] };
    expect(assignments.deployments).toEqual([]);
    brokenAgent.process.kill('SIGTERM');
    expect(await brokenAgent.exited).toBe(0);
  });
});
