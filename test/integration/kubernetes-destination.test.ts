/**
 * `kubernetes` destinations against a real kube-apiserver + etcd (test/support/kube.ts), with real
 * Temporal and Postgres. Certflow writes with a service-account token bound to exactly the RBAC of
 * deploy/kubernetes/destination-rbac.yaml (never the admin's); the test reads back with the admin
 * token. Covered: a Secret created, then replaced on renewal and by a bulk reissue; the named
 * Deployment restarted as `kubectl rollout restart` does; a rollback after failed verification
 * restoring the previous Secret (and restarting again); another team's namespace refused, a Secret
 * claimed by another team refused (409), and a Secret Certflow did not create left alone.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createSecureContext, createServer, type SecureContext, type Server } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { deliverVersion } from '../../activities/deliver-version.js';
import { openClusterToken } from '../../ca/destination-secrets.js';
import { kekRing } from '../../ca/key-encryption.js';
import { rotateKek } from '../../db/kek-rotation.js';
import { kubernetesClusters } from '../../db/schema.js';
import { eq } from 'drizzle-orm';
import { activityDeps, authHeaders, eventually, TEST_BOOTSTRAP_TOKEN, TEST_KEK_HEX } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { applyManifests, createNamespace, serviceAccountToken, startKubeControlPlane, type KubeControlPlane } from '../support/kube.js';

const RBAC_FILE = fileURLToPath(new URL('../../deploy/kubernetes/destination-rbac.yaml', import.meta.url));
const NAMESPACES = ['apps-a', 'apps-b', 'apps-shared'];
const kubeTools = inject('kubeTools');

const pods: Server[] = [];
let plane: KubeControlPlane | undefined;
const suite = useIntegrationSuite('kubernetes-destination', {
  worker: true,
  team: true,
  otherTeam: true,
  teardown: async () => {
    await Promise.all(pods.map((pod) => new Promise((resolve) => pod.close(resolve))));
    await plane?.stop();
  },
});

interface CertificateView {
  state: string;
  lastError: { type: string; message: string } | null;
  currentVersion: { id: string; serial: string; generation: number; fingerprintSha256: string } | null;
}

let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;

beforeAll(async () => {
  if (!kubeTools) throw new Error(`etcd/kube-apiserver could not be built: ${inject('kubeToolsError')}`);
  plane = await startKubeControlPlane({ tools: kubeTools, dir: await fs.mkdtemp(path.join(inject('tempDir'), 'kube-dest-')) });
  const admin = plane.kubeConfig();
  core = admin.makeApiClient(k8s.CoreV1Api);
  apps = admin.makeApiClient(k8s.AppsV1Api);
  for (const namespace of NAMESPACES) await createNamespace(admin, namespace);

  // The shipped RBAC as it is, its RoleBinding once per namespace Certflow may write to; the token Secret needs a controller-manager.
  const manifests = k8s.loadAllYaml(await fs.readFile(RBAC_FILE, 'utf8')) as k8s.KubernetesObject[];
  const binding = manifests.find((object) => object.kind === 'RoleBinding')!;
  const applied = [
    ...manifests.filter((object) => object.kind !== 'RoleBinding' && object.kind !== 'Secret'),
    ...NAMESPACES.map((namespace) => ({ ...binding, metadata: { ...binding.metadata, namespace } })),
  ];
  await applyManifests(admin, applied.map((object) => k8s.dumpYaml(object)).join('---\n'));
  const token = await serviceAccountToken(admin, 'certflow', 'certflow-destination');

  const registered = await asPlatformAdmin('POST', '/v1/clusters', {
    name: 'test',
    apiUrl: plane.server,
    caBundle: plane.caPem,
    token,
    namespaces: [
      { team: suite.team.teamName, namespaces: ['apps-a', 'apps-shared'] },
      { team: suite.otherTeam.teamName, namespaces: ['apps-b', 'apps-shared'] },
    ],
  });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  expect(JSON.stringify(registered.body)).not.toContain(token);
  serviceAccountTokenText = token;
}, 600_000);

let serviceAccountTokenText = '';

async function asPlatformAdmin(method: string, url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await suite.harness.app.request(url, { method, headers: authHeaders(TEST_BOOTSTRAP_TOKEN), ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const inState = (id: string, state: string, generation: number, timeoutMs = 40_000) =>
  suite.certificates.waitFor<CertificateView>(id, (view) => view.state === state && view.currentVersion?.generation === generation, {
    timeoutMs,
    what: `${id} to be ${state} at generation ${generation}`,
  });

async function readSecret(namespace: string, name: string): Promise<{ secret: k8s.V1Secret; text: Record<string, string> }> {
  const secret = await core.readNamespacedSecret({ namespace, name });
  const text = Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]));
  return { secret, text };
}

/** A Deployment mounting `<name>-tls`: only a workload using the delivered Secret is restarted. */
async function createDeployment(namespace: string, name: string): Promise<void> {
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'web', image: 'example.invalid/web:1', volumeMounts: [{ name: 'tls', mountPath: '/tls' }] }], volumes: [{ name: 'tls', secret: { secretName: `${name}-tls` } }] },
        },
      },
    },
  });
}

async function deployment(namespace: string, name: string): Promise<{ generation: number; restartedAt: string | undefined }> {
  const current = await apps.readNamespacedDeployment({ namespace, name });
  return { generation: current.metadata?.generation ?? 0, restartedAt: current.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'] };
}

/** The leaf (first PEM block) of `tls.crt`. */
function leafOf(pem: string): X509Certificate {
  return new X509Certificate(pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0]);
}

function fingerprintOf(text: Record<string, string>): string {
  return leafOf(text['tls.crt']!).fingerprint256.replaceAll(':', '').toLowerCase();
}

/** openssl, not our code, says tls.crt chains to ca.crt. */
async function opensslVerify(text: Record<string, string>): Promise<string> {
  const dir = await fs.mkdtemp(path.join(inject('tempDir'), 'verify-'));
  await fs.writeFile(path.join(dir, 'ca.crt'), text['ca.crt']!);
  await fs.writeFile(path.join(dir, 'tls.crt'), text['tls.crt']!);
  const leaf = text['tls.crt']!.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0];
  await fs.writeFile(path.join(dir, 'leaf.pem'), `${leaf}\n`);
  const { stdout } = await promisify(execFile)('openssl', ['verify', '-CAfile', path.join(dir, 'ca.crt'), '-untrusted', path.join(dir, 'tls.crt'), path.join(dir, 'leaf.pem')]);
  return stdout.trim();
}

/**
 * A stand-in for a pod that mounts the Secret: a TLS server serving what the Secret holds (read
 * with the admin's token on each handshake) until `freeze()` (a pod that never picks up changes).
 */
async function startPod(namespace: string, secretName: string): Promise<{ port: number; freeze(): void }> {
  let frozen = false;
  let context: SecureContext | null = null;
  const server = createServer({
    SNICallback: (_name, callback) => {
      if (frozen && context) return callback(null, context);
      readSecret(namespace, secretName).then(
        ({ text }) => {
          context = createSecureContext({ cert: text['tls.crt'], key: text['tls.key'] });
          callback(null, context);
        },
        (error: Error) => callback(error),
      );
    },
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  pods.push(server);
  return { port: (server.address() as AddressInfo).port, freeze: () => (frozen = true) };
}

describe('kubernetes destination', () => {
  it('creates the Secret, replaces it on renewal and restarts the Deployment each time, as kubectl rollout restart does', async () => {
    await createDeployment('apps-a', 'web');
    const { id } = await suite.certificates.create({
      team: suite.team.teamName,
      dnsNames: ['web.example.test'],
      validity: 'P1D',
      destinations: [{ type: 'kubernetes', cluster: 'test', namespace: 'apps-a', secretName: 'web-tls', rolloutRestart: [{ kind: 'Deployment', name: 'web' }] }],
    });
    const first = await inState(id, 'active', 1);
    const created = await readSecret('apps-a', 'web-tls');
    expect(created.secret.type).toBe('kubernetes.io/tls');
    expect(created.secret.metadata?.labels?.['certflow.io/certificate-id']).toBe(id);
    expect(created.secret.metadata?.annotations?.['certflow.io/version-id']).toBe(first.currentVersion!.id);
    expect(Object.keys(created.text).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    expect(fingerprintOf(created.text)).toBe(first.currentVersion!.fingerprintSha256);
    expect(leafOf(created.text['tls.crt']!).checkPrivateKey(createPrivateKey(created.text['tls.key']!))).toBe(true);
    expect(await opensslVerify(created.text)).toMatch(/: OK$/);
    const afterFirst = await deployment('apps-a', 'web');
    expect(afterFirst.restartedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(afterFirst.generation).toBe(2);

    await new Promise((resolve) => setTimeout(resolve, 1_100)); // restartedAt has second precision, as kubectl's
    await suite.certificates.renew(id, 'test');
    const second = await inState(id, 'active', 2);
    const replaced = await readSecret('apps-a', 'web-tls');
    expect(replaced.secret.metadata?.uid).toBe(created.secret.metadata?.uid);
    expect(replaced.secret.metadata?.resourceVersion).not.toBe(created.secret.metadata?.resourceVersion);
    expect(fingerprintOf(replaced.text)).toBe(second.currentVersion!.fingerprintSha256);
    expect(replaced.text['tls.key']).not.toBe(created.text['tls.key']);
    expect(replaced.secret.metadata?.annotations?.['certflow.io/restarted-for-version']).toBe(second.currentVersion!.id);
    const afterSecond = await deployment('apps-a', 'web');
    expect(afterSecond.generation).toBe(3);
    expect(afterSecond.restartedAt! > afterFirst.restartedAt!).toBe(true);

    // Delivering the same version again (a new request for it) writes nothing and restarts nothing.
    await deliverVersion(activityDeps(suite.harness), { certificateId: id, versionId: second.currentVersion!.id, destinationIndex: 0, rolloutKey: 'test/again', purpose: 'rollout' });
    expect((await readSecret('apps-a', 'web-tls')).secret.metadata?.resourceVersion).toBe(replaced.secret.metadata?.resourceVersion);
    expect((await deployment('apps-a', 'web')).generation).toBe(3);
  });

  it('rolls back to the previous Secret when verification fails, and restarts again', async () => {
    await createDeployment('apps-a', 'api');
    const pod = await startPod('apps-a', 'api-tls');
    const { id } = await suite.certificates.create({
      team: suite.team.teamName,
      dnsNames: ['api.example.test'],
      validity: 'P1D',
      destinations: [
        {
          type: 'kubernetes',
          cluster: 'test',
          namespace: 'apps-a',
          secretName: 'api-tls',
          rolloutRestart: [{ kind: 'Deployment', name: 'api' }],
          verify: { endpoints: [{ host: '127.0.0.1', port: pod.port }], timeout: 'PT3S' },
        },
      ],
    });
    const first = await inState(id, 'active', 1);
    const before = await readSecret('apps-a', 'api-tls');
    const restartsBefore = (await deployment('apps-a', 'api')).generation;
    pod.freeze();

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await suite.certificates.renew(id, 'test');
    const failed = await inState(id, 'rollout_failed', 2, 60_000);
    expect(failed.lastError?.message).toContain('not served');
    const restored = await readSecret('apps-a', 'api-tls');
    expect(restored.text).toEqual(before.text);
    expect(restored.secret.metadata?.annotations?.['certflow.io/version-id']).toBe(first.currentVersion!.id);
    expect(restored.secret.metadata?.annotations?.['certflow.io/restarted-for-version']).toBe(first.currentVersion!.id);
    // Restarted for the new Secret, then again for the restored one.
    expect((await deployment('apps-a', 'api')).generation).toBe(restartsBefore + 2);
  });

  it('a bulk reissue covering the certificate replaces its Secret', async () => {
    const { id } = await suite.certificates.create({
      team: suite.team.teamName,
      dnsNames: ['bulk.example.test'],
      validity: 'P1D',
      destinations: [{ type: 'kubernetes', cluster: 'test', namespace: 'apps-a', secretName: 'bulk-tls' }],
    });
    await inState(id, 'active', 1);
    const before = await readSecret('apps-a', 'bulk-tls');
    const bulk = await asPlatformAdmin('POST', '/v1/bulk-reissues', { selector: { certificateIds: [id] }, reason: 'compromised key (test)' });
    expect(bulk.status, JSON.stringify(bulk.body)).toBe(202);
    const second = await inState(id, 'active', 2, 60_000);
    const after = await eventually(
      async () => {
        const read = await readSecret('apps-a', 'bulk-tls');
        return read.secret.metadata?.annotations?.['certflow.io/version-id'] === second.currentVersion!.id ? read : undefined;
      },
      { timeoutMs: 10_000, what: 'the Secret to hold the reissued version' },
    );
    expect(fingerprintOf(after.text)).toBe(second.currentVersion!.fingerprintSha256);
    expect(after.text['tls.crt']).not.toBe(before.text['tls.crt']);
  });

  it("refuses another team's namespace (403) and a Secret another team owns (409), writing nothing", async () => {
    const body = (namespace: string, secretName: string) => ({
      team: suite.otherTeam.teamName,
      dnsNames: ['other.example.test'],
      validity: 'P1D',
      destinations: [{ type: 'kubernetes', cluster: 'test', namespace, secretName }],
    });
    const post = (payload: unknown) =>
      suite.harness.app.request('/v1/certificates', { method: 'POST', headers: authHeaders(suite.otherTeam.requester), body: JSON.stringify(payload) });

    const notGranted = await post(body('apps-a', 'web-tls'));
    expect(notGranted.status).toBe(403);
    expect(notGranted.headers.get('content-type')).toContain('application/problem+json');
    expect(((await notGranted.json()) as { type: string }).type).toBe('/problems/namespace-not-granted');

    await suite.certificates.create({ team: suite.team.teamName, dnsNames: ['shared.example.test'], validity: 'P1D', destinations: [{ type: 'kubernetes', cluster: 'test', namespace: 'apps-shared', secretName: 'shared-tls' }] });
    const claimed = await post(body('apps-shared', 'shared-tls'));
    expect(claimed.status).toBe(409);
    const problem = (await claimed.json()) as { type: string; ownerTeam: string; detail: string };
    expect(problem.type).toBe('/problems/destination-claimed');
    expect(problem.ownerTeam).toBe(suite.team.teamName);
    expect(problem.detail).toContain('Secret "apps-shared/shared-tls" of cluster "test"');

    const elsewhere = await post(body('apps-shared', 'other-tls'));
    expect(elsewhere.status).toBe(202);
  });

  it('never overwrites a Secret Certflow did not create', async () => {
    const original = { 'tls.crt': Buffer.from('not ours').toString('base64'), 'tls.key': Buffer.from('not ours either').toString('base64') };
    await core.createNamespacedSecret({ namespace: 'apps-a', body: { metadata: { name: 'foreign-tls' }, type: 'kubernetes.io/tls', data: original } });
    const { id } = await suite.certificates.create({
      team: suite.team.teamName,
      dnsNames: ['foreign.example.test'],
      validity: 'P1D',
      destinations: [{ type: 'kubernetes', cluster: 'test', namespace: 'apps-a', secretName: 'foreign-tls' }],
    });
    // A refusal is not a rollout failure but a business error (as a webhook answering 401): `failed` until someone fixes it.
    const failed = await suite.certificates.waitFor<CertificateView>(id, (view) => view.state === 'failed', { timeoutMs: 40_000, what: `${id} to fail` });
    expect(failed.lastError?.type).toBe('DestinationRejected');
    expect(failed.lastError?.message).toContain('not created by Certflow');
    const untouched = await core.readNamespacedSecret({ namespace: 'apps-a', name: 'foreign-tls' });
    expect(untouched.data).toEqual(original);
    expect(untouched.metadata?.labels).toBeUndefined();
  });

  it('keeps clusters to platform admins, shows a team only its namespaces, and stores the token sealed', async () => {
    const asTeamAdmin = await suite.harness.app.request('/v1/clusters', {
      method: 'POST',
      headers: authHeaders(suite.team.admin),
      body: JSON.stringify({ name: 'mine', apiUrl: 'https://k8s.example.test', caBundle: plane!.caPem, token: 'x'.repeat(20) }),
    });
    expect(asTeamAdmin.status).toBe(403);
    const listed = await suite.harness.app.request('/v1/clusters', { headers: authHeaders(suite.otherTeam.requester, false) });
    const { items } = (await listed.json()) as { items: Array<{ name: string; namespaces: Array<{ team: string; namespaces: string[] }> }> };
    expect(items.map((item) => item.name)).toEqual(['test']);
    expect(items[0]!.namespaces).toEqual([{ teamId: suite.otherTeam.teamId, team: suite.otherTeam.teamName, namespaces: ['apps-b', 'apps-shared'] }]);
    const [row] = await suite.harness.db.select().from(kubernetesClusters).where(eq(kubernetesClusters.name, 'test'));
    expect(row!.sealedToken).toMatch(/^sb1\./);
    expect(row!.sealedToken).not.toContain(serviceAccountTokenText.slice(0, 40));
    const loopbackMetadata = await asPlatformAdmin('POST', '/v1/clusters', { name: 'metadata', apiUrl: 'https://169.254.169.254', caBundle: plane!.caPem, token: 'x'.repeat(20) });
    expect(loopbackMetadata.status).toBe(400);
  });

  // Last: it re-seals everything under a KEK the running worker does not hold (and back afterwards).
  it('kek rotate re-seals the cluster token to the new KEK', async () => {
    const newKek = Buffer.alloc(32, 0xb7);
    const testKek = Buffer.from(TEST_KEK_HEX, 'hex');
    const report = await rotateKek(suite.harness.db, kekRing(newKek, [testKek]));
    // The database is shared with the test files that run next, whose workers hold only the test KEK: rotate back.
    onTestFinished(async () => {
      const back = await rotateKek(suite.harness.db, kekRing(testKek, [newKek]));
      if (!back.complete) throw new Error(`rotating back to the test KEK left ${back.remaining} blobs: ${back.failures.join('; ')}`);
    });
    // Other test files' clusters share the database: this one's token is among those re-sealed.
    expect(report.clusterTokens.failed).toBe(0);
    expect(report.clusterTokens.resealed).toBeGreaterThanOrEqual(1);
    expect(report.complete).toBe(true);
    const [row] = await suite.harness.db.select().from(kubernetesClusters).where(eq(kubernetesClusters.name, 'test'));
    expect(openClusterToken(kekRing(newKek), row!.sealedToken, row!.id).toString('utf8')).toBe(serviceAccountTokenText);
  });
});
