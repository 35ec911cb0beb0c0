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
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CERTIFICATE_ID_ANNOTATION, type CertificateRequestObject, type Condition } from '../../core/k8s-issuer.js';
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
  kubernetes: { cluster: string; namespace: string; name: string; certificateRequest: string; uid: string } | null;
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

  it("a bulk reissue covering a cluster certificate marks cert-manager's Certificate for re-issuance (Issuing), once", async () => {
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
  });
});
