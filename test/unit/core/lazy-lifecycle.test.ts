import { describe, expect, it } from 'vitest';
import { lazyStartOptions, startsLazily, statusWithoutRun, watchingInput } from '../../../core/lazy-lifecycle.js';
import { renewalTime } from '../../../core/renewal.js';

const certificate = { id: 'crt_a', teamName: 'team-a', commonName: 'a.example.test', state: 'active' as const, renewBeforeSeconds: null, keySource: 'acme' as const, updatedAt: new Date(0) };
const version = { generation: 3, createdAt: new Date('2026-12-01T00:00:00Z'), notAfter: new Date('2026-12-07T00:00:00Z') };

describe('lazily started lifecycles', () => {
  it.each([
    { name: 'ok/an ACME certificate with the client\'s key', source: 'acme', keySource: 'acme', lazy: true },
    { name: 'fail/a REST certificate', source: 'api', keySource: 'server', lazy: false },
    { name: 'fail/a cert-manager certificate', source: 'kubernetes', keySource: 'kubernetes', lazy: false },
  ] as const)('$name', ({ source, keySource, lazy }) => {
    expect(startsLazily({ source, keySource })).toBe(lazy);
  });

  it('ok/the lazy start watches the issued generation, and never restarts a closed run', () => {
    expect(watchingInput(certificate, 3)).toMatchObject({ certificateId: 'crt_a', generation: 3, watching: true, destinations: [], approval: null, keySource: 'acme' });
    const options = lazyStartOptions(certificate, 3, 'certificate/crt_a', 'queue');
    expect(options).toMatchObject({ workflowId: 'certificate/crt_a', taskQueue: 'queue', workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    expect(options.typedSearchAttributes.map((pair) => [pair.key.name, pair.value])).toContainEqual(['CertState', 'active']);
  });

  it('ok/without a run, an issued certificate shows its watch: wait-for-renewal at its renewal time', () => {
    const renewAt = renewalTime({ issuedAt: version.createdAt, notAfter: version.notAfter, certificateId: 'crt_a', generation: 3, renewBeforeSeconds: null });
    expect(statusWithoutRun(certificate, version)).toMatchObject({ state: 'active', generation: 3, pendingStep: 'wait-for-renewal', nextRenewalAt: renewAt.toISOString(), attempt: 0 });
    expect(statusWithoutRun({ ...certificate, state: 'renewal_overdue' }, version)).toMatchObject({ pendingStep: 'wait-for-renewal' });
  });

  it('ok/a certificate its shard has not signed yet shows its issuance pending; a revoked one nothing to wait for', () => {
    expect(statusWithoutRun({ ...certificate, state: 'pending' }, null)).toMatchObject({ state: 'pending', pendingStep: 'issue', nextRenewalAt: null });
    expect(statusWithoutRun({ ...certificate, state: 'revoked' }, version)).toMatchObject({ pendingStep: 'none', nextRenewalAt: null });
  });
});
