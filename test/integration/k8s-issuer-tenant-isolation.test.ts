/**
 * The cert-manager external issuer against a hostile team or a compromised namespace (issue 13), on a
 * real kube-apiserver + etcd and the real Certflow API, worker, Temporal and Postgres. The controller
 * runs with the RBAC of deploy/kubernetes/issuer-controller.yaml (a service-account token, never admin),
 * the token-reader RoleBinding in every namespace that has a CertflowIssuer, token Secrets labelled and
 * the allowed Certflow API URLs set, as docs/kubernetes.md says. Each test states what must NOT happen.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CERTIFICATE_ID_ANNOTATION, type CertificateRequestObject, type Condition } from '../../core/k8s-issuer.js';
import { startIssuerController, type IssuerController } from '../../k8s-issuer/controller.js';
import { eventually } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { applyManifests, createNamespace, serviceAccountToken, startKubeControlPlane, type KubeControlPlane } from '../support/kube.js';

const run = promisify(execFile);
const kubeTools = inject('kubeTools');
const CLUSTER = 'review-cluster';
const CM = { group: 'cert-manager.io', version: 'v1' } as const;
const CF = { group: 'certflow.io', version: 'v1alpha1' } as const;
/** A Secret of the hostile namespace that its tenant may not read (no `get secrets`), but the controller may. */
const DB_PASSWORD = 'hunter2-the-db-password-of-evil';
const PLATFORM_KEK = 'c7'.repeat(32);
const INTERNAL_BODY = 'INTERNAL-ONLY-BODY-of-a-service-the-tenant-cannot-reach';
const ISSUER_TOKEN = { 'certflow.io/issuer-token': 'true' };

const suite = useIntegrationSuite('k8s-issuer-review', {
  worker: true,
  http: true,
  team: { policy: { allowedDomains: ['example.test'], maxValidity: 'P30D', keyAlgorithms: ['ECDSA-P256'] } },
  teardown: async () => {
    for (const socket of tarpitSockets) socket.destroy();
    await controller?.stop();
    await plane?.stop();
    await new Promise((resolve) => capture?.close(resolve));
    await new Promise((resolve) => tarpit?.close(resolve));
  },
});

let plane: KubeControlPlane;
let controller: IssuerController | undefined;
let controllerToken: string;
let custom: k8s.CustomObjectsApi;
let core: k8s.CoreV1Api;
let dir: string;
const controllerLog: string[] = [];
/** What a URL named by a hostile CertflowIssuer received. */
const captured: Array<{ url: string; authorization: string | undefined }> = [];
let capture: http.Server | undefined;
let tarpit: http.Server | undefined;
const tarpitSockets = new Set<Socket>();

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function tokenReaderIn(admin: k8s.KubeConfig, namespace: string): Promise<void> {
  await applyManifests(
    admin,
    k8s.dumpYaml({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'certflow-issuer-token-reader', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'certflow-issuer-token-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'certflow-issuer', namespace: 'certflow' }],
    }),
  );
}

async function namespacedIssuer(namespace: string, name: string, url: string, secret: string, key = 'token'): Promise<void> {
  await custom.createNamespacedCustomObject({
    ...CF,
    namespace,
    plural: 'certflowissuers',
    body: { apiVersion: 'certflow.io/v1alpha1', kind: 'CertflowIssuer', metadata: { name }, spec: { url, team: suite.team.teamName, tokenSecretRef: { name: secret, key } } },
  });
}

beforeAll(async () => {
  if (!kubeTools) throw new Error(`etcd/kube-apiserver could not be built: ${inject('kubeToolsError')}`);
  dir = await fs.mkdtemp(path.join(inject('tempDir'), 'k8s-issuer-review-'));
  plane = await startKubeControlPlane({ tools: kubeTools, dir: path.join(dir, 'kube') });
  const admin = plane.kubeConfig();
  custom = admin.makeApiClient(k8s.CustomObjectsApi);
  core = admin.makeApiClient(k8s.CoreV1Api);
  await applyManifests(admin, await fs.readFile('deploy/kubernetes/crds.yaml', 'utf8'));
  for (const namespace of ['certflow', 'shop', 'victim', 'evil']) await createNamespace(admin, namespace);
  // The manifest makes certflow-issuers (the cluster resource namespace) and binds the token reader there.
  const manifest = k8s.loadAllYaml(await fs.readFile('deploy/kubernetes/issuer-controller.yaml', 'utf8')) as k8s.KubernetesObject[];
  await applyManifests(admin, manifest.filter((object) => object.kind !== 'Deployment').map((object) => k8s.dumpYaml(object)).join('---\n'));
  await tokenReaderIn(admin, 'shop');
  await tokenReaderIn(admin, 'evil');

  // The platform's CertflowClusterIssuer for the team, its token in the cluster resource namespace.
  await core.createNamespacedSecret({ namespace: 'certflow-issuers', body: { metadata: { name: 'certflow-token', labels: ISSUER_TOKEN }, stringData: { token: suite.team.requester } } });
  await custom.createClusterCustomObject({
    ...CF,
    plural: 'certflowclusterissuers',
    body: { apiVersion: 'certflow.io/v1alpha1', kind: 'CertflowClusterIssuer', metadata: { name: 'certflow' }, spec: { url: suite.baseUrl, team: suite.team.teamName, tokenSecretRef: { name: 'certflow-token' } } },
  });
  // A well-behaved namespace with its own issuer.
  await core.createNamespacedSecret({ namespace: 'shop', body: { metadata: { name: 'certflow-token', labels: ISSUER_TOKEN }, stringData: { token: suite.team.requester } } });
  await namespacedIssuer('shop', 'certflow', suite.baseUrl, 'certflow-token');
  // The hostile namespace's Secret it should not be able to read.
  await core.createNamespacedSecret({ namespace: 'evil', body: { metadata: { name: 'db-credentials' }, stringData: { password: DB_PASSWORD } } });

  capture = http.createServer((request, response) => {
    captured.push({ url: request.url ?? '', authorization: request.headers.authorization });
    response.writeHead(404, { 'content-type': 'text/plain' }).end(INTERNAL_BODY);
  });
  tarpit = http.createServer((_request, response) => {
    // Headers at once, then a byte now and then, forever: never idle long enough for a socket timeout.
    response.writeHead(200, { 'content-type': 'application/json' });
    const drip = setInterval(() => response.write(' '), 500);
    response.once('close', () => clearInterval(drip));
  });
  tarpit.on('connection', (socket) => {
    tarpitSockets.add(socket);
    socket.once('close', () => tarpitSockets.delete(socket));
  });
  await listen(capture);
  // The operator allowed a Certflow API URL that turns out to answer slowly (an overloaded API, a bad proxy).
  const slowApi = await listen(tarpit);

  // deploy/kubernetes/certflow.yaml's key Secrets, made as its header says, in the same namespace.
  await core.createNamespacedSecret({ namespace: 'certflow', body: { metadata: { name: 'certflow-worker-keys' }, stringData: { CERTFLOW_KEK: PLATFORM_KEK, CERTFLOW_AUDIT_KEY: 'b5'.repeat(32) } } });
  controllerToken = await serviceAccountToken(admin, 'certflow', 'certflow-issuer');
  controller = startIssuerController({ kubeConfig: plane.kubeConfig(controllerToken), clusterName: CLUSTER, clusterResourceNamespace: 'certflow-issuers', allowedUrls: [suite.baseUrl, slowApi], resyncMs: 1_000, log: (line) => controllerLog.push(line) });
  await controller.ready;
});

afterAll(async () => {
  if (controllerLog.length > 0) process.stderr.write(`[k8s-issuer-review.test] controller log (last 40):\n${controllerLog.slice(-40).join('\n')}\n`);
});

// ---------------------------------------------------------------------------------------------------------
// cert-manager's part, played by the test

async function csrFor(name: string, dnsNames: string[]): Promise<string> {
  const { stdout } = await run('openssl', [
    'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, `${name}.key`),
    '-subj', `/CN=${dnsNames[0]}`, '-addext', `subjectAltName=${dnsNames.map((n) => `DNS:${n}`).join(',')}`,
  ]);
  return stdout;
}

type IssuerRef = { group: string; kind: string; name: string };
const CLUSTER_ISSUER: IssuerRef = { group: 'certflow.io', kind: 'CertflowClusterIssuer', name: 'certflow' };

async function certificate(namespace: string, name: string, issuerRef: IssuerRef): Promise<void> {
  await custom.createNamespacedCustomObject({
    ...CM,
    namespace,
    plural: 'certificates',
    body: { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name }, spec: { secretName: `${name}-tls`, dnsNames: [`${name}.example.test`], issuerRef } },
  });
}

async function certificateRequest(namespace: string, name: string, dnsNames: string[], issuerRef: IssuerRef, annotations: Record<string, string>, approve: boolean): Promise<void> {
  await custom.createNamespacedCustomObject({
    ...CM,
    namespace,
    plural: 'certificaterequests',
    body: {
      apiVersion: 'cert-manager.io/v1',
      kind: 'CertificateRequest',
      metadata: { name, annotations },
      spec: { request: Buffer.from(await csrFor(name, dnsNames)).toString('base64'), duration: '168h0m0s', usages: ['digital signature', 'server auth'], issuerRef },
    },
  });
  if (!approve) return;
  const current = await readRequest(namespace, name);
  const approved: Condition = { type: 'Approved', status: 'True', reason: 'cert-manager.io', message: 'approved', lastTransitionTime: new Date().toISOString() };
  await custom.replaceNamespacedCustomObjectStatus({ ...CM, namespace, plural: 'certificaterequests', name, body: { ...current, status: { conditions: [approved] } } });
}

async function readRequest(namespace: string, name: string): Promise<CertificateRequestObject> {
  return (await custom.getNamespacedCustomObject({ ...CM, namespace, plural: 'certificaterequests', name })) as CertificateRequestObject;
}

const readyOf = (request: CertificateRequestObject) => request.status?.conditions?.find((c) => c.type === 'Ready');

async function issuedLeafKey(request: CertificateRequestObject, name: string): Promise<string> {
  const chain = Buffer.from(request.status!.certificate!, 'base64').toString('utf8');
  const leaf = chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/)![0];
  await fs.writeFile(path.join(dir, `${name}-leaf.pem`), leaf);
  return (await run('openssl', ['x509', '-noout', '-pubkey', '-in', path.join(dir, `${name}-leaf.pem`)])).stdout;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------------------

describe('k8s issuer under attack', () => {
  it('a team token cannot spoof kubernetes provenance to make the controller mark another namespace\'s Certificate (not even a Certflow one) for re-issuance', async () => {
    // The victim namespace's Certificate is issued by some other issuer entirely (e.g. Let's Encrypt).
    await certificate('victim', 'payments', { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'letsencrypt' });
    await custom.createNamespacedCustomObject({
      ...CM,
      namespace: 'victim',
      plural: 'certificaterequests',
      body: {
        apiVersion: 'cert-manager.io/v1',
        kind: 'CertificateRequest',
        metadata: { name: 'payments-1', annotations: { 'cert-manager.io/certificate-name': 'payments', 'cert-manager.io/certificate-revision': '1' } },
        spec: { request: Buffer.from(await csrFor('payments-1', ['payments.example.test'])).toString('base64'), issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'letsencrypt' } },
      },
    });

    // The attacker: any holder of a requester token of the team the cluster's CertflowClusterIssuer uses.
    const spoofed = await suite.certificates.create({
      team: suite.team.teamName,
      csr: await csrFor('spoof', ['spoof.example.test']),
      validity: 'P1D',
      kubernetes: { cluster: CLUSTER, namespace: 'victim', name: 'payments', certificateRequest: 'payments-1', uid: randomUUID() },
    });
    await suite.certificates.waitFor(spoofed.id, (view) => view.state === 'active', { timeoutMs: 60_000, what: 'the spoofed certificate to be active' });
    await suite.certificates.renew(spoofed.id, 'churn the victim');
    await suite.certificates.waitFor<{ state: string; renewalRequestedAt: string | null }>(spoofed.id, (view) => view.renewalRequestedAt !== null, {
      timeoutMs: 60_000,
      what: 'the renewal ask to be recorded',
    });
    await sleep(5_000); // five resyncs

    const victim = (await custom.getNamespacedCustomObject({ ...CM, namespace: 'victim', plural: 'certificates', name: 'payments' })) as { status?: { conditions?: Condition[] } };
    expect(victim.status?.conditions?.find((c) => c.type === 'Issuing'), 'the victim namespace\'s Certificate was marked Issuing by a spoofed Certflow record').toBeUndefined();
  });

  it("a CertificateRequest carrying another request's certflow.io/certificate-id annotation does not get that certificate (for a key it does not hold, names it never asked for)", async () => {
    await certificateRequest('shop', 'web-1', ['web.example.test'], { group: 'certflow.io', kind: 'CertflowIssuer', name: 'certflow' }, {}, true);
    const web = await eventually(async () => {
      const current = await readRequest('shop', 'web-1');
      return readyOf(current)?.status === 'True' ? current : undefined;
    }, { timeoutMs: 60_000, what: 'shop/web-1 Ready' });
    const webId = web.metadata.annotations![CERTIFICATE_ID_ANNOTATION]!;

    // Another namespace, through the shared cluster issuer, with names outside the team's policy.
    await certificateRequest('evil', 'steal-1', ['steal.elsewhere.invalid'], CLUSTER_ISSUER, { [CERTIFICATE_ID_ANNOTATION]: webId }, true);
    await sleep(5_000);
    const steal = await readRequest('evil', 'steal-1');
    if (steal.status?.certificate) {
      // Whatever it got must be for its own key.
      const ownKey = (await run('openssl', ['pkey', '-pubout', '-in', path.join(dir, 'steal-1.key')])).stdout;
      expect(await issuedLeafKey(steal, 'steal-1'), `evil/steal-1 was made Ready with shop's certificate ${webId}`).toBe(ownKey);
    }
    expect(readyOf(steal)?.status, `evil/steal-1: ${readyOf(steal)?.message}`).not.toBe('True');
  });

  it('a CertflowIssuer cannot make the controller send a Secret of its namespace to a URL it names', async () => {
    await namespacedIssuer('evil', 'exfil', `http://127.0.0.1:${(capture!.address() as AddressInfo).port}`, 'db-credentials', 'password');
    await sleep(5_000);
    const leaked = captured.filter((request) => request.authorization?.includes(DB_PASSWORD));
    expect(leaked.map((request) => request.url), 'the controller sent evil/db-credentials to the issuer\'s URL').toEqual([]);
  });

  it("an issuer's status does not echo what an arbitrary URL answered (no read-back SSRF through the controller)", async () => {
    const issuer = (await custom.getNamespacedCustomObject({ ...CF, namespace: 'evil', plural: 'certflowissuers', name: 'exfil' })) as { status?: { conditions?: Condition[] } };
    const ready = issuer.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready, 'the exfil issuer was reconciled').toBeDefined();
    expect(ready?.message ?? '').not.toContain(INTERNAL_BODY);
  });

  it("one namespace's issuer URL that answers slowly does not stall every other namespace's requests", async () => {
    await core.createNamespacedSecret({ namespace: 'evil', body: { metadata: { name: 'any-token', labels: ISSUER_TOKEN }, stringData: { token: 'cft_whatever-the-tenant-likes' } } });
    await namespacedIssuer('evil', 'tarpit', `http://127.0.0.1:${(tarpit!.address() as AddressInfo).port}`, 'any-token');
    await eventually(async () => (tarpitSockets.size > 0 ? true : undefined), { timeoutMs: 30_000, what: 'the controller to call the tarpit' });
    try {
      await certificateRequest('shop', 'after-tarpit-1', ['after.example.test'], { group: 'certflow.io', kind: 'CertflowIssuer', name: 'certflow' }, {}, true);
      const done = await eventually(
        async () => {
          const current = await readRequest('shop', 'after-tarpit-1');
          return readyOf(current)?.status === 'True' ? current : undefined;
        },
        { timeoutMs: 45_000, what: 'shop/after-tarpit-1 Ready while evil/tarpit drips' },
      ).catch(() => null);
      expect(done, 'a well-behaved namespace waited behind the hostile issuer for 45 s').not.toBeNull();
    } finally {
      await custom.deleteNamespacedCustomObject({ ...CF, namespace: 'evil', plural: 'certflowissuers', name: 'tarpit' });
      for (const socket of tarpitSockets) socket.destroy();
    }
  });

  it("the issuer controller (which calls URLs its issuers name) cannot read the platform's own key Secrets in the certflow namespace", async () => {
    const asController = plane.kubeConfig(controllerToken).makeApiClient(k8s.CoreV1Api);
    const status = await asController.readNamespacedSecret({ namespace: 'certflow', name: 'certflow-worker-keys' }).then(
      () => 200,
      (error: unknown) => (error instanceof k8s.ApiException ? error.code : -1),
    );
    expect(status, 'certflow-issuer can read certflow/certflow-worker-keys (CERTFLOW_KEK, CERTFLOW_AUDIT_KEY)').toBe(403);
  });

  it('a CertflowClusterIssuer cannot make the controller send the platform KEK to a URL it names', async () => {
    await custom.createClusterCustomObject({
      ...CF,
      plural: 'certflowclusterissuers',
      body: {
        apiVersion: 'certflow.io/v1alpha1',
        kind: 'CertflowClusterIssuer',
        metadata: { name: 'kek-exfil' },
        spec: { url: `http://127.0.0.1:${(capture!.address() as AddressInfo).port}`, team: suite.team.teamName, tokenSecretRef: { name: 'certflow-worker-keys', key: 'CERTFLOW_KEK' } },
      },
    });
    await sleep(5_000);
    expect(captured.filter((request) => request.authorization?.includes(PLATFORM_KEK)).map((request) => request.url), 'the KEK was sent to the issuer URL').toEqual([]);
  });
});
