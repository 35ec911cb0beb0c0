/**
 * Rollout with proof, on the real Temporal dev server and real Postgres: a TLS service that reloads
 * is verified serving each new version; one that keeps serving the old certificate is rolled back
 * (the previous version stays valid, never revoked), the certificate shows `rollout_failed`, and a
 * `retryRollout` finishes the job once the service is fixed.
 */
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { probeTlsEndpoint } from '../../activities/tls-probe.js';
import { listNotifications } from '../../db/notifications.js';
import { certificateVersions, deliveries } from '../../db/schema.js';
import { authHeaders } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { startTlsService, type TlsService } from '../support/tls-service.js';

const services: TlsService[] = [];
const suite = useIntegrationSuite('rollout', { worker: true, team: true, teardown: () => Promise.all(services.map((service) => service.close())) });

interface CertificateView {
  state: string;
  pendingStep: string | null;
  lastError: { type: string; message: string } | null;
  currentVersion: { id: string; serial: string; generation: number; fingerprintSha256: string } | null;
}

const inState = (id: string, state: string, generation: number, timeoutMs = 30_000) =>
  suite.certificates.waitFor<CertificateView>(id, (current) => current.state === state && current.currentVersion?.generation === generation, {
    timeoutMs,
    what: `${id} to be ${state} at generation ${generation}`,
  });

async function servedFingerprint(port: number, serverName: string): Promise<string> {
  return (await probeTlsEndpoint({ host: '127.0.0.1', port, serverName }, 5_000)).fingerprintSha256;
}

async function createWithService(label: string, verifyTimeout: string) {
  const directory = `services/${label}`;
  const service = await startTlsService(join(suite.harness.deliveryRoot, directory));
  services.push(service);
  const serverName = `${label}.example.test`;
  const { id } = await suite.certificates.create({
    team: suite.team.teamName,
    commonName: serverName,
    dnsNames: [serverName],
    validity: 'P1D',
    destinations: [{ type: 'file', directory, verify: { endpoints: [{ host: '127.0.0.1', port: service.port, serverName }], timeout: verifyTimeout } }],
  });
  return { id, service, serverName, directory: join(suite.harness.deliveryRoot, directory) };
}

async function rolloutRow(versionId: string) {
  const [row] = await suite.harness.db.select().from(deliveries).where(and(eq(deliveries.versionId, versionId), eq(deliveries.destinationIndex, 0)));
  return row;
}

describe('rollout with verification', () => {
  it('verifies that a reloading service serves each new version', async () => {
    const { id, service, serverName } = await createWithService('reloads', 'PT30S');
    const first = await inState(id, 'active', 1);
    expect(await servedFingerprint(service.port, serverName)).toBe(first.currentVersion!.fingerprintSha256);
    expect(await rolloutRow(first.currentVersion!.id)).toMatchObject({ state: 'verified', deployedSerial: first.currentVersion!.serial });

    await suite.certificates.renew(id, 'test');
    const second = await inState(id, 'active', 2);
    expect(second.currentVersion!.serial).not.toBe(first.currentVersion!.serial);
    expect(await servedFingerprint(service.port, serverName)).toBe(second.currentVersion!.fingerprintSha256);
    expect((await rolloutRow(second.currentVersion!.id))?.state).toBe('verified');
  });

  it('rolls back a service that keeps serving the old certificate, keeps that one valid, and retries', async () => {
    const { id, service, serverName, directory } = await createWithService('frozen', 'PT5S');
    const first = await inState(id, 'active', 1);
    service.freeze();

    await suite.certificates.renew(id, 'test');
    const failed = await inState(id, 'rollout_failed', 2, 40_000);
    expect(failed.pendingStep).toBe('wait-for-rollout-retry');
    expect(failed.lastError?.type).toBe('RolloutFailed');
    expect(failed.lastError?.message).toContain(first.currentVersion!.serial);

    // Rolled back: the destination points at generation 1 again, and the service still serves it.
    expect(await readlink(join(directory, 'current'))).toBe(join('versions', '1'));
    expect(await servedFingerprint(service.port, serverName)).toBe(first.currentVersion!.fingerprintSha256);
    const [old] = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.id, first.currentVersion!.id));
    expect(old!.revokedAt).toBeNull();
    expect(old!.status).not.toBe('revoked');
    expect((await rolloutRow(failed.currentVersion!.id))?.state).toBe('failed');
    const notes = await listNotifications(suite.harness.db, { certificateId: id, limit: 10 });
    expect(notes.map((note) => note.kind)).toContain('rollout_failed');

    // Fixed service, retried rollout: verified, active again, still exactly two versions.
    service.resume();
    const retried = await suite.harness.app.request(`/v1/certificates/${id}/retry-rollout`, { method: 'POST', headers: authHeaders(suite.team.requester) });
    expect(retried.status).toBe(202);
    const recovered = await inState(id, 'active', 2, 40_000);
    expect(await servedFingerprint(service.port, serverName)).toBe(recovered.currentVersion!.fingerprintSha256);
    expect(await readlink(join(directory, 'current'))).toBe(join('versions', '2'));
    const versions = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));
    expect(versions.map((version) => version.generation).sort()).toEqual([1, 2]);
  });
});
