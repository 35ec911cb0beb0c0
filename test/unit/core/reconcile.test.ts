import { describe, expect, it } from 'vitest';
import { decideReconcile, withoutCertificatePem, type ReconcileDbFacts, type ReconcileWorkflowFacts } from '../../../core/reconcile.js';
import type { VersionSummary } from '../../../core/types.js';

function version(generation: number): VersionSummary {
  return { versionId: `ver_${generation}`, generation, serial: `0${generation}`, issuerId: 'iss_1', issuedAt: '2026-01-01T00:00:00Z', notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-01-02T00:00:00Z', fingerprintSha256: 'ab' };
}
const db = (facts: Partial<ReconcileDbFacts> = {}): ReconcileDbFacts => ({ state: 'active', generations: [1], currentGeneration: 1, revoked: false, restartable: true, ...facts });
const workflow = (facts: Partial<ReconcileWorkflowFacts> = {}): ReconcileWorkflowFacts => ({ running: true, state: 'active', revokedAt: null, currentVersion: version(1), ...facts });

describe('decideReconcile', () => {
  const cases: Array<[string, ReconcileDbFacts | null, ReconcileWorkflowFacts | null, ReturnType<typeof decideReconcile>]> = [
    ['ok/in step', db(), workflow(), []],
    ['ok/renewing, not issued yet', db(), workflow({ state: 'renewing' }), []],
    ['recover/renewed after the backup', db(), workflow({ currentVersion: version(3) }), [{ kind: 'recover_versions', fromGeneration: 2, toGeneration: 3 }]],
    ['revoke/revoked after the backup', db(), workflow({ running: false, state: 'revoked', revokedAt: '2026-01-01T01:00:00Z' }), [{ kind: 'record_revocation', revokedAt: '2026-01-01T01:00:00Z' }]],
    [
      'recover then revoke/renewed and revoked after the backup',
      db(),
      workflow({ running: false, state: 'revoked', revokedAt: '2026-01-01T01:00:00Z', currentVersion: version(2) }),
      [{ kind: 'recover_versions', fromGeneration: 2, toGeneration: 2 }, { kind: 'record_revocation', revokedAt: '2026-01-01T01:00:00Z' }],
    ],
    ['restart/workflow gone', db(), null, [{ kind: 'restart' }]],
    ['restart/workflow closed without a revocation', db(), workflow({ running: false }), [{ kind: 'restart' }]],
    ['alert/not restartable (ACME)', db({ restartable: false }), null, [{ kind: 'alert', reason: 'its lifecycle is not running and cannot be restarted by the platform (state active)' }]],
    ['none/revoked in the database (the row wins)', db({ state: 'revoked', revoked: true }), workflow({ running: false }), []],
    ['recreate/requested after the backup', null, workflow({ currentVersion: version(1) }), [{ kind: 'recreate_revoked', toGeneration: 1 }, { kind: 'end_workflow' }]],
    ['recreate/requested and revoked after the backup', null, workflow({ running: false, state: 'revoked', revokedAt: '2026-01-01T01:00:00Z' }), [{ kind: 'recreate_revoked', toGeneration: 1 }]],
    ['end/requested after the backup, never issued', null, workflow({ currentVersion: null, state: 'pending' }), [{ kind: 'end_workflow' }]],
    ['none/no row, no workflow', null, null, []],
  ];
  it.each(cases)('%s', (_name, dbFacts, workflowFacts, expected) => {
    expect(decideReconcile(dbFacts, workflowFacts)).toEqual(expected);
  });

  it('the workflow keeps the summary without the PEM', () => {
    expect(withoutCertificatePem({ ...version(1), certificatePem: '-----BEGIN CERTIFICATE-----' })).toEqual(version(1));
  });
});
