import { describe, expect, it } from 'vitest';
import { certificateOfRequest, goDurationSeconds, issuerUrlRefusal, pemCertificates, problemMessage, profileFor, requestPhase, withCondition, type CertificateRequestObject, type Condition } from '../../../core/k8s-issuer.js';

const at = new Date('2026-12-01T00:00:00Z');

function request(conditions: Condition[] = [], issuerRef: CertificateRequestObject['spec']['issuerRef'] = { name: 'certflow', kind: 'CertflowIssuer', group: 'certflow.io' }): CertificateRequestObject {
  return { metadata: { name: 'r', namespace: 'n', uid: 'u' }, spec: { request: '', issuerRef }, status: { conditions } };
}
const condition = (type: string, status: Condition['status'], reason?: string): Condition => ({ type, status, ...(reason ? { reason } : {}) });

describe('requestPhase', () => {
  const cases: Array<[string, CertificateRequestObject, ReturnType<typeof requestPhase>['kind']]> = [
    ['ok/approved namespaced issuer', request([condition('Approved', 'True')]), 'approved'],
    ['ok/approved cluster issuer', request([condition('Approved', 'True')], { name: 'c', kind: 'CertflowClusterIssuer', group: 'certflow.io' }), 'approved'],
    ['skip/another group', request([condition('Approved', 'True')], { name: 'c', kind: 'CertflowIssuer', group: 'cert-manager.io' }), 'not-ours'],
    ['skip/cert-manager default group and kind', request([condition('Approved', 'True')], { name: 'c' }), 'not-ours'],
    ['wait/not approved yet', request([]), 'unapproved'],
    ['wait/approval False', request([condition('Approved', 'False')]), 'unapproved'],
    ['fail/denied', request([condition('Denied', 'True')]), 'denied'],
    ['fail/denied wins over approved', request([condition('Approved', 'True'), condition('Denied', 'True')]), 'denied'],
    ['done/ready', request([condition('Approved', 'True'), condition('Ready', 'True', 'Issued')]), 'finished'],
    ['done/failed', request([condition('Approved', 'True'), condition('Ready', 'False', 'Failed')]), 'finished'],
    ['done/denied marked', request([condition('Denied', 'True'), condition('Ready', 'False', 'Denied')]), 'finished'],
    ['again/pending', request([condition('Approved', 'True'), condition('Ready', 'False', 'Pending')]), 'approved'],
  ];
  it.each(cases)('%s', (_name, object, kind) => {
    expect(requestPhase(object).kind).toBe(kind);
  });
});

describe('withCondition', () => {
  it('keeps the transition time when the status stays, moves it when it changes, keeps other conditions', () => {
    const before: Condition[] = [{ type: 'Approved', status: 'True', lastTransitionTime: 'a' }, { type: 'Ready', status: 'False', reason: 'Pending', lastTransitionTime: 'b' }];
    const same = withCondition(before, { type: 'Ready', status: 'False', reason: 'Pending', message: 'still' }, at);
    expect(same.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe('b');
    const changed = withCondition(before, { type: 'Ready', status: 'True', reason: 'Issued' }, at);
    expect(changed.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe(at.toISOString());
    expect(changed.find((c) => c.type === 'Approved')).toEqual(before[0]);
  });
});

describe('profileFor', () => {
  it.each([
    [undefined, 'tls-server'],
    [['digital signature', 'key encipherment', 'server auth'], 'tls-server'],
    [['client auth'], 'tls-client'],
    [['server auth', 'client auth'], 'mtls'],
  ] as const)('%j → %s', (usages, profile) => {
    expect(profileFor(usages as string[] | undefined)).toBe(profile);
  });
});

describe('goDurationSeconds', () => {
  it.each([
    ['2160h0m0s', 7_776_000],
    ['168h', 604_800],
    ['1h30m', 5_400],
    ['90s', 90],
    ['45m', 2_700],
    ['1.5h', 5_400],
    ['', null],
    ['P30D', null],
    ['10ms', null],
    ['h', null],
  ])('%s → %s', (text, seconds) => {
    expect(goDurationSeconds(text)).toBe(seconds);
  });
});

describe('pemCertificates and problemMessage', () => {
  it('splits a bundle in order', () => {
    const a = '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----';
    const b = '-----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----';
    expect(pemCertificates(`${a}\n${b}\n`)).toEqual([`${a}\n`, `${b}\n`]);
  });

  it("says Certflow's detail and each refused field", () => {
    expect(problemMessage({ status: 403, detail: 'outside the policy', errors: [{ field: 'dnsNames[0]', message: 'a.other is outside example.test' }] })).toBe(
      'Certflow refused the request (403): outside the policy (dnsNames[0]: a.other is outside example.test)',
    );
    expect(problemMessage({ status: 401 })).toBe('Certflow refused the request (401): HTTP 401');
  });
});

describe('certificateOfRequest', () => {
  const request = (annotations?: Record<string, string>) => ({ metadata: { name: 'web-3', namespace: 'shop', uid: 'u', ...(annotations ? { annotations } : {}) } });
  it.each([
    ['ok/cert-manager Certificate with its revision', { 'cert-manager.io/certificate-name': 'web', 'cert-manager.io/certificate-revision': '3' }, { name: 'web', revision: 3 }],
    ['ok/Certificate without a revision renews nothing', { 'cert-manager.io/certificate-name': 'web' }, { name: 'web' }],
    ['ok/a revision that is not a positive integer is left out', { 'cert-manager.io/certificate-name': 'web', 'cert-manager.io/certificate-revision': '0' }, { name: 'web' }],
    ['ok/a revision beyond 32 bits is left out', { 'cert-manager.io/certificate-name': 'web', 'cert-manager.io/certificate-revision': '9999999999' }, { name: 'web' }],
    ['ok/a standalone request stands under its own name', { 'cert-manager.io/certificate-revision': '3' }, { name: 'web-3' }],
    ['ok/no annotations at all', undefined, { name: 'web-3' }],
  ])('%s', (_name, annotations, expected) => {
    expect(certificateOfRequest(request(annotations))).toEqual(expected);
  });
});

describe('issuerUrlRefusal', () => {
  const allowed = ['https://certflow.example.internal', 'http://127.0.0.1:8080/'];
  it('accepts only the allowed Certflow API URLs (trailing slash ignored)', () => {
    expect(issuerUrlRefusal('https://certflow.example.internal/', allowed)).toBeNull();
    expect(issuerUrlRefusal('http://127.0.0.1:8080', allowed)).toBeNull();
  });
  it('refuses another URL, plain http off loopback, credentials and queries', () => {
    expect(issuerUrlRefusal('https://attacker.example', allowed)).toMatch(/CERTFLOW_K8S_ALLOWED_URLS/);
    expect(issuerUrlRefusal('https://certflow.example.internal/other', allowed)).toMatch(/CERTFLOW_K8S_ALLOWED_URLS/);
    expect(issuerUrlRefusal('http://certflow.example.internal', ['http://certflow.example.internal'])).toMatch(/not https/);
    expect(issuerUrlRefusal('https://user:pw@certflow.example.internal', allowed)).toMatch(/not a plain/);
    expect(issuerUrlRefusal('https://certflow.example.internal/?x=1', allowed)).toMatch(/not a plain/);
    expect(issuerUrlRefusal('not a url', allowed)).toMatch(/not a plain/);
  });
});
