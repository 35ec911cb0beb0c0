/**
 * One certificate's whole life on the real Temporal dev server and real Postgres:
 * request → issue → file delivered → automatic renewal with a new serial → revoke.
 */
import { execFile } from 'node:child_process';
import { readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { certificateVersions } from '../../db/schema.js';
import { statusQuery } from '../../contracts/lifecycle-messages.js';
import { revokeAndWait } from '../support/revoke.js';
import { authHeaders } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const run = promisify(execFile);

const suite = useIntegrationSuite('lifecycle', { worker: true, team: true });

interface CertificateView {
  state: string;
  currentVersion: { serial: string; generation: number; notAfter: string; status: string } | null;
  nextRenewalAt: string | null;
  pendingStep: string | null;
}

describe('certificate lifecycle', () => {
  it('issues, delivers, renews automatically with a new serial, and revokes', async () => {
    const { id, workflowId } = await suite.certificates.create({
      team: suite.team.teamName,
      commonName: 'short.example.test',
      dnsNames: ['short.example.test', 'alt.example.test'],
      validity: 'PT30S',
      destinations: [{ type: 'file', directory: 'short' }],
    });
    expect(workflowId).toBe(`certificate/${id}`);

    const first = await suite.certificates.waitFor<CertificateView>(id, (certificate) => certificate.state === 'active', { timeoutMs: 15_000, what: 'the first version to be active' });
    expect(first.currentVersion?.generation).toBe(1);
    const firstRunId = (await suite.harness.client.workflow.getHandle(workflowId).describe()).runId;
    expect(first.pendingStep).toBe('wait-for-renewal');

    // Delivered: stable symlinks into the current generation, private files, a key that matches.
    const directory = join(suite.harness.deliveryRoot, 'short');
    expect(await readlink(join(directory, 'current'))).toBe(join('versions', '1'));
    for (const file of ['cert.pem', 'chain.pem', 'fullchain.pem', 'key.pem']) {
      expect((await stat(join(directory, file))).mode & 0o777).toBe(0o600);
    }
    const servedSerial = (await run('openssl', ['x509', '-in', join(directory, 'cert.pem'), '-noout', '-serial'])).stdout;
    expect(servedSerial.trim().toLowerCase()).toBe(`serial=${first.currentVersion!.serial}`);
    const certKey = (await run('openssl', ['x509', '-in', join(directory, 'cert.pem'), '-noout', '-pubkey'])).stdout;
    const keyPub = (await run('openssl', ['pkey', '-in', join(directory, 'key.pem'), '-pubout'])).stdout;
    expect(keyPub).toBe(certKey);

    // The chain verifies with openssl against the published trust bundle.
    const roots = await (await suite.harness.app.request('/pki/roots.pem')).text();
    await writeFile(join(directory, '..', 'roots.pem'), roots);
    const verify = await run('openssl', [
      'verify', '-x509_strict', '-purpose', 'sslserver', '-verify_hostname', 'alt.example.test',
      '-CAfile', join(directory, '..', 'roots.pem'), '-untrusted', join(directory, 'chain.pem'), join(directory, 'cert.pem'),
    ]);
    expect(verify.stdout).toContain(': OK');

    // Renewal happens by itself at about 2/3 of the 30 s lifetime.
    const renewed = await suite.certificates.waitFor<CertificateView>(
      id,
      (certificate) => certificate.currentVersion !== null && certificate.currentVersion.generation >= 2 && certificate.state === 'active',
      { timeoutMs: 40_000, intervalMs: 500, what: 'the automatic renewal' },
    );
    expect(renewed.currentVersion!.serial).not.toBe(first.currentVersion!.serial);
    const renewedAt = Date.now();
    expect(renewedAt).toBeLessThan(new Date(first.currentVersion!.notAfter).getTime());
    expect(await readlink(join(directory, 'current'))).toBe(join('versions', String(renewed.currentVersion!.generation)));
    const newServed = (await run('openssl', ['x509', '-in', join(directory, 'cert.pem'), '-noout', '-serial'])).stdout;
    expect(newServed.trim().toLowerCase()).toBe(`serial=${renewed.currentVersion!.serial}`);

    const versionsBeforeRevoke = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));
    expect(versionsBeforeRevoke.filter((version) => version.status === 'active')).toHaveLength(1);
    expect(versionsBeforeRevoke.find((version) => version.generation === 1)?.status).toBe('superseded');

    // Revoke through the API: the workflow records it and ends.
    const { answer } = await revokeAndWait(suite.harness.app, id, suite.team.requester, 'cessationOfOperation');
    if (answer.state === 'revoked') expect(answer.revokedSerials).toContain(renewed.currentVersion!.serial);

    const versions = await suite.harness.db.select().from(certificateVersions).where(eq(certificateVersions.certificateId, id));
    expect(versions.every((version) => version.status === 'revoked' && version.revocationReason === 'cessationOfOperation')).toBe(true);
    const handle = suite.harness.client.workflow.getHandle(workflowId);
    const result = (await handle.result()) as { state: string };

    // Workflows carry ids, never keys: no key material in any event of either run.
    const keyBody = (await readFile(join(directory, 'key.pem'), 'utf8')).split('\n').slice(1, -2).join('');
    const readable = (value: unknown) => JSON.stringify(value, (_key, field: unknown) => (field instanceof Uint8Array ? Buffer.from(field).toString('utf8') : field));
    const histories = readable(await handle.fetchHistory()) + readable(await suite.harness.client.workflow.getHandle(workflowId, firstRunId).fetchHistory());
    expect(histories).toContain(id);
    expect(histories).not.toContain('PRIVATE KEY');
    expect(histories).not.toContain(keyBody.slice(0, 40));
    expect(result.state).toBe('revoked');
    expect((await handle.query(statusQuery)).state).toBe('revoked');

    const again = await suite.harness.app.request(`/v1/certificates/${id}/revoke`, { method: 'POST', headers: authHeaders(suite.team.requester) });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toBe('application/problem+json');
    expect(await readFile(join(directory, 'cert.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('renews at once on renewNow and issues from a client CSR without ever holding the key', async () => {
    const directory = join(suite.harness.deliveryRoot, 'csr');
    await run('mkdir', ['-p', directory]);
    await run('openssl', [
      'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', join(directory, '..', 'client.key'), '-out', join(directory, '..', 'client.csr'),
      '-subj', '/CN=csr.example.test', '-addext', 'subjectAltName=DNS:csr.example.test',
    ]);
    const csr = await readFile(join(directory, '..', 'client.csr'), 'utf8');
    const { id } = await suite.certificates.create({ team: suite.team.teamName, csr, validity: 'P1D', destinations: [{ type: 'file', directory: 'csr' }] });
    const first = await suite.certificates.waitFor<CertificateView>(id, (certificate) => certificate.state === 'active', { timeoutMs: 15_000, what: 'issuance from the CSR' });

    const certPub = (await run('openssl', ['x509', '-in', join(directory, 'cert.pem'), '-noout', '-pubkey'])).stdout;
    const clientPub = (await run('openssl', ['pkey', '-in', join(directory, '..', 'client.key'), '-pubout'])).stdout;
    expect(certPub).toBe(clientPub);
    await expect(stat(join(directory, 'key.pem'))).rejects.toThrow();

    await suite.certificates.renew(id, 'rotate after test');
    const renewed = await suite.certificates.waitFor<CertificateView>(id, (certificate) => certificate.currentVersion?.generation === 2 && certificate.state === 'active', {
      timeoutMs: 15_000,
      what: 'renewal on renewNow',
    });
    expect(renewed.currentVersion!.serial).not.toBe(first.currentVersion!.serial);
  });
});
