/**
 * The Kubernetes test harness itself (issue 13): a real kube-apiserver + etcd built from their Go modules,
 * serving cert-manager's CRDs, minting service-account tokens and enforcing RBAC on them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KUBERNETES_VERSION } from '../../devservices/kube-binaries.js';
import { createNamespace, serviceAccountToken, startKubeControlPlane, type KubeControlPlane } from '../support/kube.js';

const kubeTools = inject('kubeTools');

describe('kube-apiserver harness', () => {
  let plane: KubeControlPlane;

  beforeAll(async () => {
    if (!kubeTools) throw new Error(`etcd/kube-apiserver could not be built: ${inject('kubeToolsError')}`);
    const dir = await fs.mkdtemp(path.join(inject('tempDir'), 'kube-'));
    const startedAt = Date.now();
    plane = await startKubeControlPlane({ tools: kubeTools, dir });
    process.stderr.write(`[kube-apiserver.test] control plane ready with cert-manager CRDs in ${Date.now() - startedAt} ms\n`);
  });

  afterAll(async () => {
    await plane?.stop();
  });

  it('serves the pinned version and cert-manager CertificateRequests', async () => {
    const version = await plane.kubeConfig().makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toBe(KUBERNETES_VERSION);

    const custom = plane.kubeConfig().makeApiClient(k8s.CustomObjectsApi);
    await createNamespace(plane.kubeConfig(), 'harness');
    const created = (await custom.createNamespacedCustomObject({
      group: 'cert-manager.io',
      version: 'v1',
      namespace: 'harness',
      plural: 'certificaterequests',
      body: {
        apiVersion: 'cert-manager.io/v1',
        kind: 'CertificateRequest',
        metadata: { name: 'first' },
        spec: { request: Buffer.from('not a CSR, the API server does not check').toString('base64'), issuerRef: { name: 'x', kind: 'CertflowIssuer', group: 'certflow.io' } },
      },
    })) as { metadata: { uid: string } };
    expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('authenticates service-account tokens and authorizes them with RBAC only', async () => {
    const admin = plane.kubeConfig();
    await createNamespace(admin, 'rbac');
    const token = await serviceAccountToken(admin, 'rbac', 'reader');
    const asReader = plane.kubeConfig(token).makeApiClient(k8s.CoreV1Api);
    const denied = await asReader.listNamespacedSecret({ namespace: 'rbac' }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(denied).toBeInstanceOf(k8s.ApiException);
    expect((denied as k8s.ApiException<unknown>).code).toBe(403);

    const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: 'rbac', body: { metadata: { name: 'secrets' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }] } });
    await rbac.createNamespacedRoleBinding({
      namespace: 'rbac',
      body: {
        metadata: { name: 'secrets' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'secrets' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'rbac' }],
      },
    });
    const secrets = await asReader.listNamespacedSecret({ namespace: 'rbac' });
    expect(secrets.items).toEqual([]);
  });
});
