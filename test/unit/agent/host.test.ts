/**
 * The agent's work on its host, with real keys and a real issuance pipeline: keys made and kept in
 * the state directory, CSRs the pipeline accepts for exactly the certificate's names, deployments
 * written with the matching key, reload run, and failures reported without stopping the others.
 */
import { KeyObject, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Assignments, Deployment } from '../../../contracts/agent-wire.js';
import { AgentApiClient, type DeploymentOutcome } from '../../../agent/api-client.js';
import { buildCsr } from '../../../agent/csr.js';
import { deploy, type DeployDeps } from '../../../agent/deploy.js';
import { KeyStore, spkiOf } from '../../../agent/key-store.js';
import { pollOnce } from '../../../agent/run.js';
import { checkRequest, issueFromRequest } from '../../../ca/issuance.js';
import { LeafTemplates } from '../../../ca/leaf-template.js';
import { issuerUrls } from '../../../ca/profiles.js';
import { randomSerial } from '../../../ca/serial.js';
import { softwareSigner } from '../../../ca/signer.js';
import type { TeamPolicy } from '../../../core/policy.js';
import { KEY_ALGORITHMS, PROFILES, type KeyAlgorithm, type Profile } from '../../../core/types.js';
import { buildHierarchy, makeTempDir, NOW, type Hierarchy, type TempDir } from '../ca/support.js';

const DOMAIN = 'agent.example.com';
const POLICY: TeamPolicy = {
  allowedDomains: [DOMAIN],
  allowWildcards: false,
  allowIpSans: true,
  maxValiditySeconds: 90 * 86_400,
  keyAlgorithms: [...KEY_ALGORITHMS],
  profiles: [...PROFILES],
};
const ISSUED_AT = new Date(NOW.getTime() + 86_400_000);

const CERTIFICATE_ID = `crt_${'a'.repeat(20)}`;
const NAMES = { commonName: `web.${DOMAIN}`, dnsNames: [`web.${DOMAIN}`, `api.${DOMAIN}`], ipAddresses: ['10.0.0.7'], uris: [] };

let ca: Hierarchy;
let templates: LeafTemplates;
let dir: TempDir;
beforeAll(async () => {
  ca = await buildHierarchy();
  templates = new LeafTemplates({
    id: 'iss_agent',
    certificateDer: new Uint8Array(ca.intermediate.certificate.rawData),
    signer: softwareSigner(KeyObject.from(ca.intermediate.keys.privateKey), 'ECDSA-P256'),
    urls: issuerUrls('http://ca.example.com/', 'iss_agent'),
  });
});
beforeEach(async () => {
  dir = await makeTempDir('agent');
});
afterEach(async () => dir.remove());

/** Signs a leaf for the agent's CSR through the production pipeline. */
async function issueFor(csrPem: string): Promise<{ pem: string; serial: string; chainPem: string }> {
  const leaf = await issueFromRequest(
    { templates, now: () => ISSUED_AT, serial: randomSerial },
    { key: { csrPem }, ...NAMES, profile: 'tls-server', validitySeconds: 86_400, teamPolicy: POLICY },
  );
  return { pem: leaf.pem, serial: leaf.serial, chainPem: `${ca.intermediate.certificate.toString('pem')}\n` };
}

function deployment(issued: { pem: string; serial: string; chainPem: string }, change: Partial<Deployment> = {}): Deployment {
  return {
    deliveryId: 1,
    certificateId: CERTIFICATE_ID,
    versionId: 'ver_x',
    generation: 1,
    serial: issued.serial,
    target: 'web',
    keySource: 'agent',
    certificatePem: issued.pem.endsWith('\n') ? issued.pem : `${issued.pem}\n`,
    chainPem: issued.chainPem,
    ...change,
  };
}

function deployDeps(keys: KeyStore, reload: string[] | null = null): DeployDeps {
  return { keys, reloadTimeoutMs: 10_000, targets: { web: { directory: join(dir.path, 'web'), reload, owner: null } } };
}

describe('key store and CSR', () => {
  const algorithms: Array<[KeyAlgorithm, Profile]> = [
    ['ECDSA-P256', 'tls-server'],
    ['ECDSA-P384', 'tls-server'],
    ['RSA-2048', 'mtls'],
    ['Ed25519', 'tls-client'],
  ];
  for (const [algorithm, profile] of algorithms) {
    it(`ok/${algorithm} (${profile}): the CSR passes the pipeline's checks for exactly the certificate's names`, async () => {
      const keys = new KeyStore(join(dir.path, 'state'));
      const key = await keys.keyFor(CERTIFICATE_ID, 1, algorithm);
      const csr = await buildCsr({ keyAlgorithm: algorithm, ...NAMES }, key);
      const checked = await checkRequest({ key: { csrPem: csr }, ...NAMES, profile, validitySeconds: 86_400, teamPolicy: POLICY });
      expect(checked.keyAlgorithm).toBe(algorithm);
      expect(Buffer.from(checked.subjectPublicKeySpki!).equals(spkiOf(key))).toBe(true);
    });
  }

  it('ok/a generation keeps its key across restarts; files are private', async () => {
    const path = join(dir.path, 'state');
    const first = await new KeyStore(path).keyFor(CERTIFICATE_ID, 3, 'ECDSA-P256');
    expect(await new KeyStore(path).keyFor(CERTIFICATE_ID, 3, 'ECDSA-P256')).toBe(first);
    expect(await new KeyStore(path).keyFor(CERTIFICATE_ID, 4, 'ECDSA-P256')).not.toBe(first);
    expect((await stat(join(path, 'keys', CERTIFICATE_ID, '3.pem'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(path, 'keys', CERTIFICATE_ID))).mode & 0o777).toBe(0o700);
  });

  it('fail/a certificate id that could escape the state directory', async () => {
    await expect(new KeyStore(dir.path).keyFor('../../etc', 1, 'ECDSA-P256')).rejects.toThrow(/refusing a key path/);
  });

  it('fail/a CSR for other names is refused by the pipeline', async () => {
    const key = await new KeyStore(dir.path).keyFor(CERTIFICATE_ID, 1, 'ECDSA-P256');
    const csr = await buildCsr({ keyAlgorithm: 'ECDSA-P256', ...NAMES, dnsNames: [`evil.${DOMAIN}`] }, key);
    await expect(checkRequest({ key: { csrPem: csr }, ...NAMES, profile: 'tls-server', validitySeconds: 86_400, teamPolicy: POLICY })).rejects.toThrow(
      /must be the same names|not among the requested/,
    );
  });
});

describe('deploy', () => {
  it('ok/writes the set with the matching key, runs the reload argv, returns the serial', async () => {
    const keys = new KeyStore(join(dir.path, 'state'));
    const key = await keys.keyFor(CERTIFICATE_ID, 1, 'ECDSA-P256');
    const issued = await issueFor(await buildCsr({ keyAlgorithm: 'ECDSA-P256', ...NAMES }, key));
    const marker = join(dir.path, 'reloaded');
    const reload = [process.execPath, '-e', `require('fs').appendFileSync(${JSON.stringify(marker)}, 'reload\\n')`];

    expect(await deploy(deployDeps(keys, reload), deployment(issued))).toBe(issued.serial);
    const target = join(dir.path, 'web');
    expect(await readFile(join(target, 'key.pem'), 'utf8')).toBe(key);
    const served = new X509Certificate(await readFile(join(target, 'cert.pem'), 'utf8'));
    expect(served.serialNumber.toLowerCase()).toBe(issued.serial);
    expect(await readFile(join(target, 'fullchain.pem'), 'utf8')).toBe(deployment(issued).certificatePem + issued.chainPem);
    expect(await readFile(marker, 'utf8')).toBe('reload\n');
  });

  it('ok/a CSR-keyed certificate is written without a key', async () => {
    const keys = new KeyStore(join(dir.path, 'state'));
    const elsewhere = await new KeyStore(join(dir.path, 'client')).keyFor(CERTIFICATE_ID, 1, 'ECDSA-P256');
    const issued = await issueFor(await buildCsr({ keyAlgorithm: 'ECDSA-P256', ...NAMES }, elsewhere));
    await deploy(deployDeps(keys), deployment(issued, { keySource: 'csr' }));
    await expect(stat(join(dir.path, 'web', 'key.pem'))).rejects.toThrow(/ENOENT/);
  });

  const failures: Array<[string, (issued: Awaited<ReturnType<typeof issueFor>>) => Partial<Deployment>, string[] | null, RegExp]> = [
    ['fail/unknown target', () => ({ target: 'db' }), null, /target "db" is not configured on this agent/],
    ['fail/serial differs from the certificate sent', () => ({ serial: '01' }), null, /has serial [0-9a-f]+, not the assigned 01/],
    ['fail/server keys are never deployed by agents', () => ({ keySource: 'server' }), null, /server-generated key/],
    ['fail/reload exits non-zero', () => ({}), [process.execPath, '-e', 'process.stderr.write("nginx: bad config"); process.exit(3)'], /failed \(exit status 3\): nginx: bad config/],
  ];
  for (const [name, change, reload, message] of failures) {
    it(name, async () => {
      const keys = new KeyStore(join(dir.path, 'state'));
      const key = await keys.keyFor(CERTIFICATE_ID, 1, 'ECDSA-P256');
      const issued = await issueFor(await buildCsr({ keyAlgorithm: 'ECDSA-P256', ...NAMES }, key));
      await expect(deploy(deployDeps(keys, reload), deployment(issued, change(issued)))).rejects.toThrow(message);
    });
  }

  it('fail/the key is not on this host', async () => {
    const stranger = await new KeyStore(join(dir.path, 'other')).keyFor(CERTIFICATE_ID, 1, 'ECDSA-P256');
    const issued = await issueFor(await buildCsr({ keyAlgorithm: 'ECDSA-P256', ...NAMES }, stranger));
    await expect(deploy(deployDeps(new KeyStore(join(dir.path, 'state'))), deployment(issued))).rejects.toThrow(/is not on this host/);
  });
});

describe('pollOnce', () => {
  /** An API client answering from memory and recording what the agent sent. */
  function fakeClient(assignments: Assignments | Error) {
    const reports: Array<[number, DeploymentOutcome]> = [];
    const csrs: string[] = [];
    const client = Object.assign(Object.create(AgentApiClient.prototype) as AgentApiClient, {
      assignments: async () => {
        if (assignments instanceof Error) throw assignments;
        return assignments;
      },
      submitCsr: async (request: { certificateId: string; csr: string }) => {
        if (request.certificateId.endsWith('b')) throw new Error('409 conflict');
        csrs.push(request.certificateId);
      },
      report: async (deliveryId: number, outcome: DeploymentOutcome) => {
        reports.push([deliveryId, outcome]);
      },
    });
    return { client, reports, csrs };
  }

  it('ok/one failing assignment neither stops the others nor throws', async () => {
    const keys = new KeyStore(join(dir.path, 'state'));
    const key = await keys.keyFor(CERTIFICATE_ID, 1, 'ECDSA-P256');
    const issued = await issueFor(await buildCsr({ keyAlgorithm: 'ECDSA-P256', ...NAMES }, key));
    const request = (id: string) => ({ certificateId: id, generation: 1, target: 'web', keyAlgorithm: 'ECDSA-P256' as const, profile: 'tls-server' as const, ...NAMES });
    const { client, reports, csrs } = fakeClient({
      csrRequests: [request(`crt_${'b'.repeat(20)}`), request(`crt_${'c'.repeat(20)}`)],
      deployments: [deployment(issued, { deliveryId: 7, target: 'missing' }), deployment(issued, { deliveryId: 8 })],
    });
    const log: string[] = [];
    await pollOnce({ client, keys, deployDeps: deployDeps(keys), signal: new AbortController().signal, log: (line) => log.push(line) });
    expect(csrs).toEqual([`crt_${'c'.repeat(20)}`]);
    expect(reports).toEqual([
      [7, { ok: false, error: 'target "missing" is not configured on this agent' }],
      [8, { ok: true, serial: issued.serial }],
    ]);
    expect(log.some((line) => line.includes('409 conflict'))).toBe(true);
  });

  it('ok/an unreachable API is logged, not thrown', async () => {
    const keys = new KeyStore(dir.path);
    const { client } = fakeClient(new Error('ECONNREFUSED'));
    const log: string[] = [];
    await pollOnce({ client, keys, deployDeps: deployDeps(keys), signal: new AbortController().signal, log: (line) => log.push(line) });
    expect(log).toEqual(['cannot fetch assignments: ECONNREFUSED']);
  });
});
