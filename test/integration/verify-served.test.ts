/**
 * verifyServed on the real database and real TLS servers: the rollout row ends verified when the
 * endpoint serves the version, failed (with what it served instead) when the deadline passes, and
 * the deadline is anchored on the row's delivery time.
 */
import { ApplicationFailure } from '@temporalio/common';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.js';
import { verifyServed } from '../../activities/verify-served.js';
import { randomSerial } from '../../ca/serial.js';
import type { Destination } from '../../core/types.js';
import { insertCertificate } from '../../db/certificates.js';
import { findRollout, openRollout, updateRollout } from '../../db/deliveries.js';
import { newId } from '../../db/ids.js';
import { findActiveIntermediate } from '../../db/issuers.js';
import { recordIssuedVersion } from '../../db/versions.js';
import { activityDeps } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { issueTestLeaf, startTlsServer, type TestLeaf, type TestTlsServer } from '../unit/activities/tls-support.js';

let deps: ActivityDeps;
let issuerId: string;
let tls: TestTlsServer;
let oldLeaf: TestLeaf;

const suite = useIntegrationSuite('verify', { team: true, teardown: () => tls?.close() });

beforeAll(async () => {
  deps = activityDeps(suite.harness);
  issuerId = (await findActiveIntermediate(suite.harness.db))!.id;
  oldLeaf = await issueTestLeaf('app.example.test', randomSerial());
  tls = await startTlsServer(oldLeaf);
});

/** A certificate with one destination, one recorded version (`leaf`) and its rollout row, delivered at `deliveredAt`. */
async function deliveredVersion(leaf: TestLeaf, destination: Destination, deliveredAt = new Date()) {
  const certificateId = newId('crt');
  const versionId = newId('ver');
  await insertCertificate(suite.harness.db, {
    id: certificateId,
    teamId: suite.team.teamId,
    commonName: 'app.example.test',
    dnsNames: ['app.example.test'],
    ipAddresses: [],
    uris: [],
    profile: 'tls-server',
    keyAlgorithm: 'ECDSA-P256',
    validitySeconds: 86_400,
    keySource: 'csr',
    destinations: [destination],
    state: 'active',
    workflowId: `certificate/${certificateId}`,
    requestedBy: 'verify-served test',
  });
  await recordIssuedVersion(suite.harness.db, {
    id: versionId,
    certificateId,
    generation: 1,
    issuerId,
    serial: leaf.serial,
    certificatePem: leaf.certificatePem,
    notBefore: new Date(leaf.notAfter.getTime() - 86_400_000),
    notAfter: leaf.notAfter,
    fingerprintSha256: leaf.fingerprintSha256,
    status: 'active',
  });
  const key = { versionId, destinationIndex: 0, rolloutKey: 'g1/rollout/1' };
  await openRollout(suite.harness.db, { ...key, destination });
  await updateRollout(suite.harness.db, key, { state: 'delivered', deployedSerial: leaf.serial, deliveredAt });
  return { certificateId, ...key };
}

const verifying = (timeoutSeconds: number): Destination => ({
  type: 'file',
  directory: 'verify',
  verify: { endpoints: [{ host: '127.0.0.1', port: tls.port }], timeoutSeconds },
});

describe('verifyServed', () => {
  it('ok/marks the rollout verified once the endpoint serves the version', async () => {
    const leaf = await issueTestLeaf('app.example.test', randomSerial());
    tls.serve(leaf);
    const input = await deliveredVersion(leaf, verifying(10));

    const outcome = await verifyServed(deps, input);

    expect(outcome).toMatchObject({ served: true, endpoints: [{ servedSerial: leaf.serial, servedFingerprint: leaf.fingerprintSha256, error: null }] });
    const row = await findRollout(suite.harness.db, input.versionId, 0);
    expect(row).toMatchObject({ state: 'verified', lastError: null });
    expect(row!.verifiedAt).toBeInstanceOf(Date);
  });

  it('fail/marks the rollout failed when the old certificate is still served at the deadline', async () => {
    tls.serve(oldLeaf);
    const leaf = await issueTestLeaf('app.example.test', randomSerial());
    const input = await deliveredVersion(leaf, verifying(2));

    const started = Date.now();
    const outcome = await verifyServed(deps, input);

    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(outcome.served).toBe(false);
    expect(outcome.detail).toContain(`127.0.0.1:${tls.port} (SNI app.example.test) serves serial ${oldLeaf.serial} (fingerprint ${oldLeaf.fingerprintSha256}), not serial ${leaf.serial}`);
    const row = await findRollout(suite.harness.db, input.versionId, 0);
    expect(row).toMatchObject({ state: 'failed', lastError: outcome.detail, verifiedAt: null });
  });

  it('fail/a retried activity keeps the deadline of the delivery', async () => {
    tls.serve(oldLeaf);
    const leaf = await issueTestLeaf('app.example.test', randomSerial());
    const input = await deliveredVersion(leaf, verifying(60), new Date(Date.now() - 120_000));

    const started = Date.now();
    const outcome = await verifyServed(deps, input);

    expect(outcome.served).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect((await findRollout(suite.harness.db, input.versionId, 0))!.state).toBe('failed');
  });

  it('ok/a destination without verify has nothing to verify', async () => {
    const leaf = await issueTestLeaf('app.example.test', randomSerial());
    const input = await deliveredVersion(leaf, { type: 'file', directory: 'plain' });
    expect(await verifyServed(deps, input)).toEqual({ served: true, detail: 'nothing to verify', endpoints: [] });
  });

  it('fail/an unknown version is a non-retryable CertificateNotFound', async () => {
    const error = await verifyServed(deps, { certificateId: newId('crt'), versionId: newId('ver'), destinationIndex: 0, rolloutKey: 'g1/rollout/1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'CertificateNotFound', nonRetryable: true });
  });

  it('fail/an unknown destination is a non-retryable InvalidRequest', async () => {
    const leaf = await issueTestLeaf('app.example.test', randomSerial());
    const input = await deliveredVersion(leaf, verifying(2));
    const error = await verifyServed(deps, { ...input, destinationIndex: 3 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ type: 'InvalidRequest', nonRetryable: true });
  });
});
