/**
 * `kubernetes` destinations in a namespace shared by two teams (grants allow one namespace to several
 * teams, as kubernetes-destination.test.ts's `apps-shared`), played as the hostile one (issue 13).
 * Real kube-apiserver + etcd, the shipped RBAC of deploy/kubernetes/destination-rbac.yaml, real
 * Temporal and Postgres. The test states what must NOT happen.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { authHeaders, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { certificatesAs, useIntegrationSuite } from '../support/integration-suite.js';
import { applyManifests, createNamespace, serviceAccountToken, startKubeControlPlane, type KubeControlPlane } from '../support/kube.js';

const RBAC_FILE = fileURLToPath(new URL('../../deploy/kubernetes/destination-rbac.yaml', import.meta.url));
const kubeTools = inject('kubeTools');

let plane: KubeControlPlane | undefined;
const suite = useIntegrationSuite('kubernetes-destination-review', {
  worker: true,
  team: true,
  otherTeam: true,
  teardown: async () => {
    await plane?.stop();
  },
});

let apps: k8s.AppsV1Api;

beforeAll(async () => {
  if (!kubeTools) throw new Error(`etcd/kube-apiserver could not be built: ${inject('kubeToolsError')}`);
  plane = await startKubeControlPlane({ tools: kubeTools, dir: await fs.mkdtemp(path.join(inject('tempDir'), 'kube-dest-review-')) });
  const admin = plane.kubeConfig();
  apps = admin.makeApiClient(k8s.AppsV1Api);
  await createNamespace(admin, 'shared');
  const manifests = k8s.loadAllYaml(await fs.readFile(RBAC_FILE, 'utf8')) as k8s.KubernetesObject[];
  const binding = manifests.find((object) => object.kind === 'RoleBinding')!;
  const applied = [...manifests.filter((object) => object.kind !== 'RoleBinding' && object.kind !== 'Secret'), { ...binding, metadata: { ...binding.metadata, namespace: 'shared' } }];
  await applyManifests(admin, applied.map((object) => k8s.dumpYaml(object)).join('---\n'));
  const token = await serviceAccountToken(admin, 'certflow', 'certflow-destination');
  const registered = await suite.harness.app.request('/v1/clusters', {
    method: 'POST',
    headers: authHeaders(TEST_BOOTSTRAP_TOKEN),
    body: JSON.stringify({
      name: 'shared-ns',
      apiUrl: plane.server,
      caBundle: plane.caPem,
      token,
      namespaces: [
        { team: suite.team.teamName, namespaces: ['shared'] },
        { team: suite.otherTeam.teamName, namespaces: ['shared'] },
      ],
    }),
  });
  expect(registered.status, await registered.clone().text()).toBe(201);

  // Team A's workload in the shared namespace, mounting team A's Secret only.
  await apps.createNamespacedDeployment({
    namespace: 'shared',
    body: {
      metadata: { name: 'a-payments', labels: { team: 'a' } },
      spec: {
        selector: { matchLabels: { app: 'a-payments' } },
        template: {
          metadata: { labels: { app: 'a-payments' } },
          spec: {
            containers: [{ name: 'web', image: 'example.invalid/web:1', volumeMounts: [{ name: 'tls', mountPath: '/tls' }] }],
            volumes: [{ name: 'tls', secret: { secretName: 'a-payments-tls' } }],
          },
        },
      },
    },
  });
}, 600_000);

describe('kubernetes destination under attack', () => {
  it("a team cannot restart another team's workload (one that does not mount its Secret) through rolloutRestart", async () => {
    const before = await apps.readNamespacedDeployment({ namespace: 'shared', name: 'a-payments' });
    const attacker = certificatesAs(suite.harness.app, suite.otherTeam.requester);
    const created = await attacker.create({
      team: suite.otherTeam.teamName,
      dnsNames: ['b.example.test'],
      validity: 'P1D',
      destinations: [{ type: 'kubernetes', cluster: 'shared-ns', namespace: 'shared', secretName: 'b-tls', rolloutRestart: [{ kind: 'Deployment', name: 'a-payments' }] }],
    });
    // Either refused up front, or delivered without touching team A's Deployment.
    await attacker.waitFor<{ state: string; lastError: unknown }>(created.id, (view) => view.state === 'active' || view.state === 'failed' || view.lastError !== null, {
      timeoutMs: 60_000,
      what: 'the attacker certificate to settle',
    });
    const settled = await attacker.view<{ state: string; lastError: { message: string } | null }>(created.id);
    expect(settled.lastError?.message ?? '', 'the delivery says why the workload was not restarted').toMatch(/does not use Secret "b-tls"/);
    const after = await apps.readNamespacedDeployment({ namespace: 'shared', name: 'a-payments' });
    expect(after.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], "team B's certificate restarted team A's Deployment").toBeUndefined();
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
  });
});
