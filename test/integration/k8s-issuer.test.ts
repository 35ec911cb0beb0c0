/**
 * The cert-manager external issuer (issue 13) against a real kube-apiserver + etcd and the real Certflow
 * API, worker, Temporal and Postgres. The test plays cert-manager (it creates Certificates and
 * CertificateRequests, and approves or denies them); the controller runs with a service-account token
 * bound to the RBAC of deploy/kubernetes/issuer-controller.yaml, never as admin.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CERTIFICATE_ID_ANNOTATION, type CertificateRequestObject, type Condition } from '../../core/k8s-issuer.js';
import { statusQuery } from '../../contracts/lifecycle-messages.js';
import { certificateVersions } from '../../db/schema.js';
import { startIssuerController, type IssuerController } from '../../k8s-issuer/controller.js';
import { authHeaders, createToken, eventually, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { applyManifests, createNamespace, serviceAccountToken, startKubeControlPlane, type KubeControlPlane } from '../support/kube.js';

const run = promisify(execFile);
const kubeTools = inject('kubeTools');
const CLUSTER = 'test-cluster';
const NAMESPACE = 'shop';
const CM = { group: 'cert-manager.io', version: 'v1' } as const;

const suite = useIntegrationSuite('k8s-issuer', {
  worker: true,
  http: true,
  team: {
    policy: { allowedDomains: ['example.test'], allowWildcards: true, approval: { wildcards: true }, maxValidity: 'P30D', keyAlgorithms: ['ECDSA-P256', 'RSA-2048'] },
  },
  teardown: async () => {
    await controller?.stop();
    await stopChild();
    await plane?.stop();
  },
});

let plane: KubeControlPlane;
let controller: IssuerController | undefined;
/** The controller as `certflow k8s-issuer` runs it: its own process, KUBECONFIG with the service account's token. */
let child: ChildProcess | undefined;
let controllerToken: string;
let custom: k8s.CustomObjectsApi;
let dir: string;
let controllerConfig: k8s.KubeConfig;
const controllerLog: string[] = [];

async function startChild(): Promise<void> {
  const kubeconfig = await plane.writeKubeConfig(path.join(dir, 'controller.kubeconfig'), controllerToken);
  child = spawn(process.execPath, ['--import', 'tsx', 'cmd/k8s-issuer.ts'], {
    env: { ...process.env, KUBECONFIG: kubeconfig, CERTFLOW_K8S_CLUSTER_NAME: CLUSTER, CERTFLOW_K8S_CLUSTER_RESOURCE_NAMESPACE: 'certflow-issuers', CERTFLOW_K8S_RESYNC_SECONDS: '1', CERTFLOW_K8S_ALLOWED_URLS: suite.baseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => controllerLog.push(`[child] ${chunk.toString().trimEnd()}`));
  child.stderr!.on('data', (chunk: Buffer) => controllerLog.push(`[child] ${chunk.toString().trimEnd()}`));
}

async function stopChild(): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child!.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function startController(): IssuerController {
  return startIssuerController({
    kubeConfig: controllerConfig,
    clusterName: CLUSTER,
    clusterResourceNamespace: 'certflow-issuers',
    allowedUrls: [suite.baseUrl],
    resyncMs: 1_000,
    log: (line) => controllerLog.push(line),
  });
}

beforeAll(async () => {
  if (!kubeTools) throw new Error(`etcd/kube-apiserver could not be built: ${inject('kubeToolsError')}`);
  dir = await fs.mkdtemp(path.join(inject('tempDir'), 'k8s-issuer-'));
  plane = await startKubeControlPlane({ tools: kubeTools, dir: path.join(dir, 'kube') });
  const admin = plane.kubeConfig();
  custom = admin.makeApiClient(k8s.CustomObjectsApi);
  await applyManifests(admin, await fs.readFile('deploy/kubernetes/crds.yaml', 'utf8'));
  await createNamespace(admin, 'certflow');
  await createNamespace(admin, NAMESPACE);
  // The manifest's RBAC, as shipped (its Deployment needs a kubelet, which this cluster has not).
  const manifest = k8s.loadAllYaml(await fs.readFile('deploy/kubernetes/issuer-controller.yaml', 'utf8')) as k8s.KubernetesObject[];
  await applyManifests(admin, manifest.filter((object) => object.kind !== 'Deployment').map((object) => k8s.dumpYaml(object)).join('---\n'));
  // docs/kubernetes.md: a namespace with a CertflowIssuer lets the controller read the issuer's token Secret.
  await applyManifests(
    admin,
    k8s.dumpYaml({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'certflow-issuer-token-reader', namespace: NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'certflow-issuer-token-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'certflow-issuer', namespace: 'certflow' }],
    }),
  );
  const core = admin.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedSecret({ namespace: NAMESPACE, body: { metadata: { name: 'certflow-token', labels: { 'certflow.io/issuer-token': 'true' } }, stringData: { token: suite.team.requester } } });
  await core.createNamespacedSecret({ namespace: NAMESPACE, body: { metadata: { name: 'wrong-token', labels: { 'certflow.io/issuer-token': 'true' } }, stringData: { token: 'cft_not-a-token' } } });
  for (const [name, secret] of [
    ['certflow', 'certflow-token'],
    ['broken', 'wrong-token'],
  ] as const) {
    await custom.createNamespacedCustomObject({
      group: 'certflow.io',
      version: 'v1alpha1',
      namespace: NAMESPACE,
      plural: 'certflowissuers',
      body: { apiVersion: 'certflow.io/v1alpha1', kind: 'CertflowIssuer', metadata: { name }, spec: { url: suite.baseUrl, team: suite.team.teamName, tokenSecretRef: { name: secret } } },
    });
  }
  controllerToken = await serviceAccountToken(admin, 'certflow', 'certflow-issuer');
  controllerConfig = plane.kubeConfig(controllerToken);
  controller = startController();
  await controller.ready;
});

afterAll(async () => {
  if (controllerLog.length > 0) process.stderr.write(`[k8s-issuer.test] controller log:\n${controllerLog.join('\n')}\n`);
});

// ---------------------------------------------------------------------------------------------------------
// cert-manager's part, played by the test

async function csrFor(name: string, dnsNames: string[]): Promise<string> {
  const keyFile = path.join(dir, `${name}.key`);
  const { stdout } = await run('openssl', [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile,
    '-subj', `/CN=${dnsNames[0]}`, '-addext', `subjectAltName=${dnsNames.map((n) => `DNS:${n}`).join(',')}`,
  ]);
  return stdout;
}

/** A Certificate and its first CertificateRequest, as cert-manager makes them; `approved` as its approver would decide. */
async function request(name: string, dnsNames: string[], decision: 'approve' | 'deny' | 'none', issuer = 'certflow', duration: string | null = '168h0m0s'): Promise<void> {
  const durationField = duration === null ? {} : { duration };
  await custom.createNamespacedCustomObject({
    ...CM,
    namespace: NAMESPACE,
    plural: 'certificates',
    body: {
      apiVersion: 'cert-manager.io/v1',
      kind: 'Certificate',
      metadata: { name },
      spec: { secretName: `${name}-tls`, dnsNames, ...durationField, issuerRef: { group: 'certflow.io', kind: 'CertflowIssuer', name: issuer } },
    },
  });
  await custom.createNamespacedCustomObject({
    ...CM,
    namespace: NAMESPACE,
    plural: 'certificaterequests',
    body: {
      apiVersion: 'cert-manager.io/v1',
      kind: 'CertificateRequest',
      metadata: { name: `${name}-1`, annotations: { 'cert-manager.io/certificate-name': name, 'cert-manager.io/certificate-revision': '1' } },
      spec: {
        request: Buffer.from(await csrFor(name, dnsNames)).toString('base64'),
        ...durationField,
        usages: ['digital signature', 'key encipherment', 'server auth'],
        issuerRef: { group: 'certflow.io', kind: 'CertflowIssuer', name: issuer },
      },
    },
  });
  if (decision !== 'none') await decide(`${name}-1`, decision);
}

/** cert-manager renewing a Certificate: its next CertificateRequest (a new key), approved. */
async function renewalRequest(name: string, revision: number, dnsNames: string[], issuer = 'certflow'): Promise<void> {
  await custom.createNamespacedCustomObject({
    ...CM,
    namespace: NAMESPACE,
    plural: 'certificaterequests',
    body: {
      apiVersion: 'cert-manager.io/v1',
      kind: 'CertificateRequest',
      metadata: { name: `${name}-${revision}`, annotations: { 'cert-manager.io/certificate-name': name, 'cert-manager.io/certificate-revision': String(revision) } },
      spec: {
        request: Buffer.from(await csrFor(`${name}-${revision}`, dnsNames)).toString('base64'),
        duration: '168h0m0s',
        usages: ['digital signature', 'key encipherment', 'server auth'],
        issuerRef: { group: 'certflow.io', kind: 'CertflowIssuer', name: issuer },
      },
    },
  });
  await decide(`${name}-${revision}`, 'approve');
}

async function versionsOf(certificateId: string) {
  return suite.harness.db
    .select({ generation: certificateVersions.generation, status: certificateVersions.status, serial: certificateVersions.serial })
    .from(certificateVersions)
    .where(eq(certificateVersions.certificateId, certificateId))
    .orderBy(asc(certificateVersions.generation));
}

/** The leaf of a Ready request, and the public key of the CSR's key ("cert-manager"'s), as openssl prints them. */
async function leafAndKey(done: CertificateRequestObject, keyName: string): Promise<{ leafKey: string; ownKey: string; serial: string }> {
  const leaf = Buffer.from(done.status!.certificate!, 'base64').toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/)![0];
  const file = path.join(dir, `${keyName}-leaf.pem`);
  await fs.writeFile(file, leaf);
  const leafKey = (await run('openssl', ['x509', '-noout', '-pubkey', '-in', file])).stdout;
  const serial = (await run('openssl', ['x509', '-noout', '-serial', '-in', file])).stdout.trim().replace(/^serial=/, '').toLowerCase();
  const ownKey = (await run('openssl', ['pkey', '-pubout', '-in', path.join(dir, `${keyName}.key`)])).stdout;
  return { leafKey, ownKey, serial };
}

async function decide(requestName: string, decision: 'approve' | 'deny'): Promise<void> {
  const current = await certificateRequest(requestName);
  const condition: Condition =
    decision === 'approve'
      ? { type: 'Approved', status: 'True', reason: 'cert-manager.io', message: 'Certificate request has been approved by cert-manager.io', lastTransitionTime: new Date().toISOString() }
      : { type: 'Denied', status: 'True', reason: 'policy.example', message: 'not on the allow list of this cluster', lastTransitionTime: new Date().toISOString() };
  await custom.replaceNamespacedCustomObjectStatus({
    ...CM,
    namespace: NAMESPACE,
    plural: 'certificaterequests',
    name: requestName,
    body: { ...current, status: { ...current.status, conditions: [...(current.status?.conditions ?? []), condition] } },
  });
}

async function certificateRequest(name: string): Promise<CertificateRequestObject> {
  return (await custom.getNamespacedCustomObject({ ...CM, namespace: NAMESPACE, plural: 'certificaterequests', name })) as CertificateRequestObject;
}

const readyOf = (request: CertificateRequestObject) => request.status?.conditions?.find((c) => c.type === 'Ready');

async function waitForReady(name: string, accept: (ready: Condition) => boolean, what: string): Promise<CertificateRequestObject> {
  return eventually(
    async () => {
      const current = await certificateRequest(name);
      const ready = readyOf(current);
      return ready && accept(ready) ? current : undefined;
    },
    { timeoutMs: 60_000, what },
  );
}

interface InventoryItem {
  id: string;
  source: string;
  state: string;
  kubernetes: { cluster: string; namespace: string; name: string; certificateRequest: string; uid: string; revision?: number } | null;
}

async function kubernetesInventory(): Promise<InventoryItem[]> {
  const response = await suite.harness.app.request(`/v1/certificates?team=${suite.team.teamName}&source=kubernetes&limit=200`, { headers: authHeaders(suite.team.requester, false) });
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: InventoryItem[] }).items;
}

async function issuerReady(name: string): Promise<Condition | undefined> {
  const issuer = (await custom.getNamespacedCustomObject({ group: 'certflow.io', version: 'v1alpha1', namespace: NAMESPACE, plural: 'certflowissuers', name })) as {
    status?: { conditions?: Condition[] };
  };
  return issuer.status?.conditions?.find((c) => c.type === 'Ready');
}

async function bulkView(id: string): Promise<{ state: string; counts: Record<string, number> }> {
  const response = await suite.harness.app.request(`/v1/bulk-reissues/${id}`, { headers: authHeaders(TEST_BOOTSTRAP_TOKEN, false) });
  expect(response.status).toBe(200);
  return (await response.json()) as { state: string; counts: Record<string, number> };
}

// ---------------------------------------------------------------------------------------------------------

describe('cert-manager external issuer', () => {
  it('the API takes a kubernetes certificate only with the request\'s csr and no destinations', async () => {
    const response = await suite.harness.app.request('/v1/certificates', {
      method: 'POST',
      headers: authHeaders(suite.team.requester),
      body: JSON.stringify({
        team: suite.team.teamName,
        dnsNames: ['nocsr.example.test'],
        validity: 'P1D',
        kubernetes: { cluster: CLUSTER, namespace: NAMESPACE, name: 'nocsr', certificateRequest: 'nocsr-1', uid: '00000000-0000-0000-0000-000000000001' },
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('kubernetes');
  });

  it('an issuer is Ready when Certflow accepts its token, and not with a wrong one', async () => {
    const ready = await eventually(async () => ((await issuerReady('certflow'))?.status === 'True' ? await issuerReady('certflow') : undefined), { timeoutMs: 30_000, what: 'issuer Ready' });
    expect(ready?.reason).toBe('Verified');
    const broken = await eventually(async () => ((await issuerReady('broken'))?.status === 'False' ? await issuerReady('broken') : undefined), { timeoutMs: 30_000, what: 'broken issuer not Ready' });
    expect(broken?.message).toMatch(/401/);
  });

  it('an approved CertificateRequest becomes Ready with a chain openssl verifies against /pki/roots.pem, and shows in the inventory', async () => {
    await request('web', ['web.example.test'], 'approve');
    const done = await waitForReady('web-1', (ready) => ready.status === 'True', 'web-1 Ready');
    expect(readyOf(done)?.reason).toBe('Issued');

    const chain = Buffer.from(done.status!.certificate!, 'base64').toString('utf8');
    const blocks = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    await fs.writeFile(path.join(dir, 'web-leaf.pem'), blocks[0]!);
    await fs.writeFile(path.join(dir, 'web-chain.pem'), blocks.slice(1).join(''));
    const roots = await (await suite.harness.app.request('/pki/roots.pem')).text();
    await fs.writeFile(path.join(dir, 'roots.pem'), roots);
    expect(Buffer.from(done.status!.ca!, 'base64').toString('utf8')).toBe(roots);
    const verify = await run('openssl', ['verify', '-purpose', 'sslserver', '-CAfile', path.join(dir, 'roots.pem'), '-untrusted', path.join(dir, 'web-chain.pem'), path.join(dir, 'web-leaf.pem')]);
    expect(verify.stdout).toContain(': OK');
    // The key stayed with "cert-manager": the certificate is for the CSR's key.
    const leafKey = await run('openssl', ['x509', '-noout', '-pubkey', '-in', path.join(dir, 'web-leaf.pem')]);
    const ownKey = await run('openssl', ['pkey', '-pubout', '-in', path.join(dir, 'web.key')]);
    expect(leafKey.stdout).toBe(ownKey.stdout);

    const item = (await kubernetesInventory()).find((i) => i.kubernetes?.certificateRequest === 'web-1');
    expect(item).toMatchObject({ source: 'kubernetes', state: 'active', kubernetes: { cluster: CLUSTER, namespace: NAMESPACE, name: 'web', certificateRequest: 'web-1', uid: done.metadata.uid } });
    expect(done.metadata.annotations?.[CERTIFICATE_ID_ANNOTATION]).toBe(item?.id);
  });

  it("a Certificate without a duration gets the team's default validity (not a fixed P90D its policy refuses)", async () => {
    await request('nodur', ['nodur.example.test'], 'approve', 'certflow', null);
    const done = await waitForReady('nodur-1', (ready) => ready.status !== 'False' || ready.reason === 'Failed', 'nodur-1 Ready or Failed');
    expect(readyOf(done)?.status, readyOf(done)?.message).toBe('True');
    const leaf = Buffer.from(done.status!.certificate!, 'base64').toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/)![0];
    await fs.writeFile(path.join(dir, 'nodur-leaf.pem'), leaf);
    const { stdout } = await run('openssl', ['x509', '-noout', '-startdate', '-enddate', '-in', path.join(dir, 'nodur-leaf.pem')]);
    const date = (field: string) => Date.parse(stdout.match(new RegExp(`${field}=(.+)`))![1]!);
    // The policy's maxValidity is P30D and it sets no defaultValidity: the platform default (90 days) capped to 30.
    expect(Math.round((date('notAfter') - date('notBefore')) / 86_400_000)).toBe(30);
  });

  it("a request outside the team's policy fails with Certflow's reason, and nothing is issued", async () => {
    await request('elsewhere', ['api.elsewhere.invalid'], 'approve');
    const failed = await waitForReady('elsewhere-1', (ready) => ready.reason === 'Failed', 'elsewhere-1 Failed');
    expect(readyOf(failed)?.status).toBe('False');
    expect(readyOf(failed)?.message).toMatch(/403.*api\.elsewhere\.invalid/);
    expect(failed.status?.failureTime).toBeTruthy();
    expect(failed.status?.certificate).toBeUndefined();
    expect((await kubernetesInventory()).some((i) => i.kubernetes?.certificateRequest === 'elsewhere-1')).toBe(false);
  });

  it('an unapproved request is not signed; a denied one is marked Denied and never signed', async () => {
    await request('unapproved', ['unapproved.example.test'], 'none');
    await request('denied', ['denied.example.test'], 'deny');
    const denied = await waitForReady('denied-1', (ready) => ready.reason === 'Denied', 'denied-1 Denied');
    expect(readyOf(denied)?.status).toBe('False');
    expect(denied.status?.failureTime).toBeTruthy();
    // Several resyncs later (every second), the unapproved one is still untouched.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const unapproved = await certificateRequest('unapproved-1');
    expect(unapproved.status?.certificate).toBeUndefined();
    expect(readyOf(unapproved)).toBeUndefined();
    const inventory = await kubernetesInventory();
    expect(inventory.some((i) => i.kubernetes?.certificateRequest === 'unapproved-1' || i.kubernetes?.certificateRequest === 'denied-1')).toBe(false);
  });

  it('a request needing approval in Certflow waits, survives a controller restart (as a process) without a second submission, and completes once approved', async () => {
    await request('wild', ['*.wild.example.test'], 'approve');
    const pending = await waitForReady('wild-1', (ready) => ready.reason === 'Pending' && /approval/.test(ready.message ?? ''), 'wild-1 pending approval');
    const id = pending.metadata.annotations?.[CERTIFICATE_ID_ANNOTATION];
    expect(id).toMatch(/^crt_/);

    // From here on the controller is `certflow k8s-issuer` in its own process.
    await controller!.stop();
    controller = undefined;
    await startChild();
    await eventually(async () => (controllerLog.some((line) => line.includes('watching CertificateRequests')) ? true : undefined), { timeoutMs: 60_000, what: 'the k8s-issuer process to start' });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(readyOf(await certificateRequest('wild-1'))?.status).toBe('False');

    const approver = await createToken(suite.harness, suite.team.teamId, 'approver');
    const approval = await suite.harness.app.request(`/v1/certificates/${id}/approve`, { method: 'POST', headers: authHeaders(approver.token), body: JSON.stringify({ reason: 'wildcard for the shop ingress' }) });
    expect(approval.status, await approval.clone().text()).toBe(200);
    const done = await waitForReady('wild-1', (ready) => ready.status === 'True', 'wild-1 Ready after approval');
    expect(done.metadata.annotations?.[CERTIFICATE_ID_ANNOTATION]).toBe(id);
    const submissions = (await kubernetesInventory()).filter((i) => i.kubernetes?.uid === done.metadata.uid);
    expect(submissions.map((i) => i.id)).toEqual([id]);
  });

  it("cert-manager's next CertificateRequest for a Certificate is the next generation of the same Certflow certificate: the first version superseded, still active", async () => {
    await request('shop', ['shop.example.test'], 'approve');
    const first = await waitForReady('shop-1', (ready) => ready.status === 'True', 'shop-1 Ready');
    const id = first.metadata.annotations?.[CERTIFICATE_ID_ANNOTATION];
    expect(id).toMatch(/^crt_/);

    // cert-manager renews: revision 2, a new key, and (the Certificate was edited) one more name.
    await renewalRequest('shop', 2, ['shop.example.test', 'www.shop.example.test']);
    const second = await waitForReady('shop-2', (ready) => ready.status === 'True', 'shop-2 Ready');
    expect(second.metadata.annotations?.[CERTIFICATE_ID_ANNOTATION]).toBe(id);
    expect(second.metadata.annotations?.['certflow.io/generation']).toBe('2');
    // shop-2 got a certificate for its own key and names, not the one shop-1 got.
    const renewed = await leafAndKey(second, 'shop-2');
    expect(renewed.leafKey).toBe(renewed.ownKey);
    expect((await run('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', path.join(dir, 'shop-2-leaf.pem')])).stdout).toContain('DNS:www.shop.example.test');

    const forShop = (await kubernetesInventory()).filter((i) => i.kubernetes?.name === 'shop');
    expect(forShop.map((i) => i.id)).toEqual([id]);
    expect(forShop[0]).toMatchObject({ state: 'active', kubernetes: { certificateRequest: 'shop-2', uid: second.metadata.uid, revision: 2 } });
    const versions = await versionsOf(id!);
    expect(versions.map((v) => [v.generation, v.status])).toEqual([
      [1, 'superseded'],
      [2, 'active'],
    ]);
    expect(versions[1]!.serial).toBe(renewed.serial);
    const view = await suite.certificates.view<{ state: string; currentVersion: { generation: number } }>(id!);
    expect(view).toMatchObject({ state: 'active', currentVersion: { generation: 2 } });
    // Nothing is left waiting for a renewal that went elsewhere (what would turn renewal_overdue): the lifecycle runs generation 2.
    const status = await suite.harness.client.workflow.getHandle(`certificate/${id}`).query(statusQuery);
    expect(status).toMatchObject({ generation: 2, state: 'active' });

    // The controller's retry of the same request (same UID) lands on the same generation.
    const again = await suite.harness.app.request('/v1/certificates', {
      method: 'POST',
      headers: { ...authHeaders(suite.team.requester), 'Idempotency-Key': `k8s-certificaterequest-${second.metadata.uid}` },
      body: JSON.stringify({
        team: suite.team.teamName,
        csr: Buffer.from(second.spec.request, 'base64').toString('utf8'),
        validity: 604800,
        kubernetes: { cluster: CLUSTER, namespace: NAMESPACE, name: 'shop', certificateRequest: 'shop-2', uid: second.metadata.uid, revision: 2 },
      }),
    });
    expect(again.status, await again.clone().text()).toBe(202);
    expect(await again.json()).toMatchObject({ id, generation: 2 });
    expect(await versionsOf(id!)).toHaveLength(2);
  });

  it("a renewal whose new names are outside the team's policy fails, and the certificate keeps its version", async () => {
    await renewalRequest('shop', 3, ['shop.example.test', 'shop.elsewhere.invalid']);
    const failed = await waitForReady('shop-3', (ready) => ready.reason === 'Failed', 'shop-3 Failed');
    expect(readyOf(failed)?.message).toMatch(/403.*shop\.elsewhere\.invalid/);
    const shop = (await kubernetesInventory()).filter((i) => i.kubernetes?.name === 'shop');
    expect(shop).toHaveLength(1);
    expect(shop[0]).toMatchObject({ state: 'active', kubernetes: { certificateRequest: 'shop-2' } });
    expect((await versionsOf(shop[0]!.id)).map((v) => v.status)).toEqual(['superseded', 'active']);
  });

  it('two first requests for one Certificate at once make one Certflow certificate', async () => {
    const body = async (uid: string, requestName: string) =>
      JSON.stringify({
        team: suite.team.teamName,
        csr: await csrFor(requestName, ['race.example.test']),
        validity: 604800,
        kubernetes: { cluster: CLUSTER, namespace: NAMESPACE, name: 'race', certificateRequest: requestName, uid, revision: 1 },
      });
    const uids = ['11111111-2222-3333-4444-000000000001', '11111111-2222-3333-4444-000000000002'];
    const bodies = await Promise.all(uids.map((uid, index) => body(uid, `race-${index + 1}`)));
    const answers = await Promise.all(
      bodies.map((text, index) =>
        suite.harness.app.request('/v1/certificates', { method: 'POST', headers: { ...authHeaders(suite.team.requester), 'Idempotency-Key': `k8s-certificaterequest-${uids[index]}` }, body: text }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
    const race = (await kubernetesInventory()).filter((i) => i.kubernetes?.name === 'race');
    expect(race).toHaveLength(1);

    // Issued, then two renewals of it at once (revision 2, two requests): one takes generation 2, the other is told to retry.
    await suite.certificates.waitFor(race[0]!.id, (view) => view.state === 'active', { timeoutMs: 30_000, what: 'race issued' });
    const renewalUids = ['11111111-2222-3333-4444-000000000003', '11111111-2222-3333-4444-000000000004'];
    const renewalBodies = await Promise.all(
      renewalUids.map(async (uid, index) =>
        JSON.stringify({
          team: suite.team.teamName,
          csr: await csrFor(`race-2-${index}`, ['race.example.test']),
          validity: 604800,
          kubernetes: { cluster: CLUSTER, namespace: NAMESPACE, name: 'race', certificateRequest: `race-2-${index}`, uid, revision: 2 },
        }),
      ),
    );
    const renewals = await Promise.all(
      renewalBodies.map((text, index) =>
        suite.harness.app.request('/v1/certificates', { method: 'POST', headers: { ...authHeaders(suite.team.requester), 'Idempotency-Key': `k8s-certificaterequest-${renewalUids[index]}` }, body: text }),
      ),
    );
    expect(renewals.map((a) => a.status).sort()).toEqual([202, 409]);
    const taken = (await renewals.find((a) => a.status === 202)!.json()) as { id: string; state: string; generation: number };
    expect(taken).toMatchObject({ id: race[0]!.id, state: 'renewing', generation: 2 });
    await suite.certificates.waitFor(race[0]!.id, (view) => view.state === 'active' && (view as { currentVersion?: { generation: number } }).currentVersion?.generation === 2, {
      timeoutMs: 30_000,
      what: 'race renewed',
    });
    expect((await versionsOf(race[0]!.id)).map((v) => [v.generation, v.status])).toEqual([
      [1, 'superseded'],
      [2, 'active'],
    ]);
    expect((await kubernetesInventory()).filter((i) => i.kubernetes?.name === 'race')).toHaveLength(1);
  });

  it("a bulk reissue covering a cluster certificate marks cert-manager's Certificate for re-issuance (Issuing), once, and counts it reissued when cert-manager's new request is signed", async () => {
    const web = (await kubernetesInventory()).find((i) => i.kubernetes?.certificateRequest === 'web-1');
    expect(web).toBeDefined();
    const bulk = await suite.harness.app.request('/v1/bulk-reissues', {
      method: 'POST',
      headers: authHeaders(TEST_BOOTSTRAP_TOKEN),
      body: JSON.stringify({ selector: { certificateIds: [web!.id] }, reason: 'incident INC-7: reissue the shop certificates' }),
    });
    expect(bulk.status, await bulk.clone().text()).toBe(202);

    const issuing = await eventually(
      async () => {
        const certificate = (await custom.getNamespacedCustomObject({ ...CM, namespace: NAMESPACE, plural: 'certificates', name: 'web' })) as {
          status?: { conditions?: Condition[] };
          metadata: { annotations?: Record<string, string> };
        };
        const condition = certificate.status?.conditions?.find((c) => c.type === 'Issuing');
        // Both writes: the marker annotation (first) and the Issuing condition.
        const marked = certificate.metadata.annotations?.['certflow.io/renewal-requested-at'] !== undefined;
        return condition?.status === 'True' && marked ? { condition, certificate } : undefined;
      },
      { timeoutMs: 60_000, what: 'the Certificate to be Issuing and marked' },
    );
    expect(issuing.condition.reason).toBe('ManuallyTriggered');
    expect(issuing.condition.message).toContain('INC-7');
    // The ask is remembered on the Certificate, so later resyncs do not set Issuing again.
    const asked = await suite.certificates.view<{ state: string; renewalRequestedAt: string | null }>(web!.id);
    expect(asked.renewalRequestedAt).toBeTruthy();
    expect(issuing.certificate.metadata.annotations?.['certflow.io/renewal-requested-at']).toBe(asked.renewalRequestedAt);
    // The other Certificates were not asked.
    const other = (await custom.getNamespacedCustomObject({ ...CM, namespace: NAMESPACE, plural: 'certificates', name: 'wild' })) as { status?: { conditions?: Condition[] } };
    expect(other.status?.conditions?.some((c) => c.type === 'Issuing')).toBeFalsy();

    // cert-manager acts on Issuing: a new CertificateRequest for the Certificate, revision 2.
    const { id: bulkId } = (await bulk.json()) as { id: string };
    const signalled = await bulkView(bulkId);
    expect(signalled.counts.reissued).toBe(0);
    await renewalRequest('web', 2, ['web.example.test']);
    const done = await waitForReady('web-2', (ready) => ready.status === 'True', 'web-2 Ready');
    expect(done.metadata.annotations?.[CERTIFICATE_ID_ANNOTATION]).toBe(web!.id);
    const finished = await eventually(async () => {
      const view = await bulkView(bulkId);
      return view.counts.reissued === 1 ? view : undefined;
    }, { timeoutMs: 60_000, what: 'the bulk operation to count the certificate reissued' });
    expect(finished.counts).toMatchObject({ selected: 1, reissued: 1, failed: 0, skipped: 0 });
    expect((await versionsOf(web!.id)).map((v) => v.status)).toEqual(['superseded', 'active']);
  });
});
