import { describe, expect, it } from 'vitest';
import { destinationClaimKey, claimKeysCollide } from '../../../core/destination-claims.js';
import { checkPlatformRules, registeredClusterRules, type PlatformDestinationRules } from '../../../core/destination-hosts.js';
import {
  CERTIFICATE_LABEL,
  desiredSecret,
  encodeData,
  nextSecretStep,
  observedSecret,
  podTemplateUsesSecret,
  RESTARTED_FOR_ANNOTATION,
  restartedAt,
  rolloutRestartPatch,
  secretPath,
  workloadPath,
  type ObservedSecret,
  type SecretVersion,
} from '../../../core/kubernetes-secret.js';

const version: SecretVersion = {
  certificateId: 'crt_a',
  versionId: 'ver_2',
  serial: '0abc',
  notAfter: '2027-01-01T00:00:00.000Z',
  data: { 'tls.crt': 'LEAF\nCHAIN\n', 'tls.key': 'KEY\n', 'ca.crt': 'ROOT\n' },
};

function observed(overrides: Partial<ObservedSecret> = {}): ObservedSecret {
  return {
    resourceVersion: '41',
    labels: { [CERTIFICATE_LABEL]: 'crt_a' },
    annotations: {},
    type: 'kubernetes.io/tls',
    data: encodeData(version.data),
    ...overrides,
  };
}

describe('nextSecretStep', () => {
  const cases: Array<{ name: string; secret: ObservedSecret | null; restarts: number; want: ReturnType<typeof nextSecretStep>['kind'] }> = [
    { name: 'ok/absent → create', secret: null, restarts: 0, want: 'create' },
    { name: 'ok/same content, no workloads → done (re-delivery writes nothing)', secret: observed(), restarts: 0, want: 'done' },
    { name: 'ok/other content → replace', secret: observed({ data: encodeData({ ...version.data, 'tls.key': 'OLD\n' }) }), restarts: 1, want: 'replace' },
    { name: 'ok/extra key in the Secret → replace', secret: observed({ data: { ...encodeData(version.data), extra: 'eA==' } }), restarts: 0, want: 'replace' },
    { name: 'ok/same content, workloads not yet restarted for it → restart', secret: observed({ annotations: { [RESTARTED_FOR_ANNOTATION]: 'ver_1' } }), restarts: 1, want: 'restart' },
    { name: 'ok/same content, restarted for it → done', secret: observed({ annotations: { [RESTARTED_FOR_ANNOTATION]: 'ver_2' } }), restarts: 2, want: 'done' },
    { name: 'fail/no label → refuse', secret: observed({ labels: {} }), restarts: 0, want: 'refuse' },
    { name: "fail/another certificate's label → refuse", secret: observed({ labels: { [CERTIFICATE_LABEL]: 'crt_b' } }), restarts: 0, want: 'refuse' },
    { name: 'fail/not a TLS Secret → refuse', secret: observed({ type: 'Opaque' }), restarts: 0, want: 'refuse' },
  ];
  for (const { name, secret, restarts, want } of cases) {
    it(name, () => expect(nextSecretStep(secret, version, restarts).kind).toBe(want));
  }

  it('replaces under the resourceVersion it read', () => {
    expect(nextSecretStep(observed({ resourceVersion: '77', data: {} }), version, 0)).toEqual({ kind: 'replace', resourceVersion: '77' });
  });

  it('says whose the Secret is when refusing', () => {
    expect(nextSecretStep(observed({ labels: { [CERTIFICATE_LABEL]: 'crt_b' } }), version, 0)).toMatchObject({ reason: expect.stringContaining('crt_b') });
    expect(nextSecretStep(observed({ labels: {} }), version, 0)).toMatchObject({ reason: expect.stringContaining('not created by Certflow') });
  });
});

describe('desiredSecret', () => {
  it('is a kubernetes.io/tls Secret labelled with the certificate, holding base64 PEM', () => {
    const secret = desiredSecret('web-tls', 'apps', version, null);
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(secret.metadata.labels[CERTIFICATE_LABEL]).toBe('crt_a');
    expect(Buffer.from(secret.data['tls.crt']!, 'base64').toString('utf8')).toBe('LEAF\nCHAIN\n');
    expect(secret.data['ca.crt']).toBe(Buffer.from('ROOT\n').toString('base64'));
    expect(secret.metadata.annotations).not.toHaveProperty(RESTARTED_FOR_ANNOTATION);
    expect(desiredSecret('web-tls', 'apps', version, 'ver_1').metadata.annotations[RESTARTED_FOR_ANNOTATION]).toBe('ver_1');
  });

  it('encodes non-ASCII text as UTF-8 base64, as Buffer does', () => {
    for (const text of ['', 'a', 'ab', 'abc', 'é€😀\n']) expect(encodeData({ 'tls.crt': text, 'tls.key': '', 'ca.crt': '' })['tls.crt']).toBe(Buffer.from(text).toString('base64'));
  });

  it('reads back as observed with the same content: nothing to do', () => {
    const secret = desiredSecret('web-tls', 'apps', version, 'ver_2');
    const back = observedSecret({ ...secret, metadata: { ...secret.metadata, resourceVersion: '5' } });
    expect(nextSecretStep(back, version, 1)).toEqual({ kind: 'done' });
  });
});

describe('rolloutRestartPatch', () => {
  it("is kubectl rollout restart's patch, with Go's RFC 3339 time", () => {
    const now = new Date('2026-12-07T22:15:03.456Z');
    expect(restartedAt(now)).toBe('2026-12-07T22:15:03Z');
    expect(rolloutRestartPatch(now)).toEqual({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-07T22:15:03Z' } } } } });
  });

  it('names the apps/v1 resource of each kind', () => {
    expect(workloadPath('apps', 'Deployment', 'web')).toBe('/apis/apps/v1/namespaces/apps/deployments/web');
    expect(workloadPath('apps', 'StatefulSet', 'db')).toBe('/apis/apps/v1/namespaces/apps/statefulsets/db');
    expect(workloadPath('apps', 'DaemonSet', 'agent')).toBe('/apis/apps/v1/namespaces/apps/daemonsets/agent');
    expect(secretPath('apps')).toBe('/api/v1/namespaces/apps/secrets');
    expect(secretPath('apps', 'web-tls')).toBe('/api/v1/namespaces/apps/secrets/web-tls');
  });
});

describe('kubernetes claims', () => {
  const key = (namespace: string, secretName: string) => destinationClaimKey({ type: 'kubernetes', cluster: 'prod', namespace, secretName }, '/var/lib/certflow');
  it('one Secret of one cluster is one key; others do not collide', () => {
    expect(key('apps', 'web-tls')).toBe('kubernetes:prod/apps/web-tls');
    expect(claimKeysCollide(key('apps', 'web-tls')!, key('apps', 'web-tls')!)).toBe(true);
    expect(claimKeysCollide(key('apps', 'web-tls')!, key('apps', 'web-tls2')!)).toBe(false);
    expect(claimKeysCollide(key('apps', 'web-tls')!, key('apps2', 'web-tls')!)).toBe(false);
  });
});

describe('registered cluster host rules', () => {
  const rules: PlatformDestinationRules = {
    services: [{ name: 'Postgres', host: '10.0.0.5', port: 5432 }],
    allowedExceptions: [],
    extraDenied: ['10.96.0.0/12'],
  };
  const check = (host: string, port: number) => checkPlatformRules(host, port, registeredClusterRules(rules))?.code ?? null;
  it('ok/an API server in a range teams are denied (the admin named it)', () => expect(check('10.96.0.1', 443)).toBeNull());
  it('ok/a DNS name', () => expect(check('api.prod.example', 6443)).toBeNull());
  it('fail/loopback without the operator exception', () => expect(check('127.0.0.1', 6443)).toBe('address_denied'));
  it('fail/cloud metadata', () => expect(check('169.254.169.254', 443)).toBe('address_denied'));
  it("fail/the platform's own Postgres", () => expect(check('10.0.0.5', 5432)).toBe('platform_service'));
  it('teams stay held to extraDenied', () => expect(checkPlatformRules('10.96.0.1', 443, rules)?.code).toBe('address_denied'));
});

describe('podTemplateUsesSecret', () => {
  const workload = (spec: object) => ({ spec: { template: { spec } } });
  it('finds the Secret in a volume, a projected volume, envFrom and an env secretKeyRef', () => {
    expect(podTemplateUsesSecret(workload({ volumes: [{ name: 'tls', secret: { secretName: 'web-tls' } }], containers: [] }), 'web-tls')).toBe(true);
    expect(podTemplateUsesSecret(workload({ volumes: [{ name: 'all', projected: { sources: [{ configMap: { name: 'x' } }, { secret: { name: 'web-tls' } }] } }] }), 'web-tls')).toBe(true);
    expect(podTemplateUsesSecret(workload({ containers: [{ name: 'c', envFrom: [{ secretRef: { name: 'web-tls' } }] }] }), 'web-tls')).toBe(true);
    expect(podTemplateUsesSecret(workload({ initContainers: [{ name: 'c', env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'web-tls', key: 'tls.key' } } }] }] }), 'web-tls')).toBe(true);
  });
  it("is false for a workload using other Secrets only, or that is not a workload", () => {
    expect(podTemplateUsesSecret(workload({ volumes: [{ name: 'tls', secret: { secretName: 'a-payments-tls' } }], containers: [{ name: 'c', env: [{ name: 'X', value: 'web-tls' }] }] }), 'web-tls')).toBe(false);
    expect(podTemplateUsesSecret({ kind: 'Status' }, 'web-tls')).toBe(false);
    expect(podTemplateUsesSecret(null, 'web-tls')).toBe(false);
  });
});
