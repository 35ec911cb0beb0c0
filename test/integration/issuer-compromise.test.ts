/**
 * The issuer compromise drill end to end on the real Temporal dev server and Postgres: six
 * certificates with file destinations under an intermediate, the drill started through the API,
 * then checked in the database, in the delivered files, in the report, and by `openssl verify
 * -crl_check` as a relying party with the CRLs served by /pki: the old leaves (and the old
 * intermediate) are revoked, the new leaves verify under the successor.
 *
 * Issuer selection: issuance signs with the newest active intermediate (db/issuers.ts
 * findActiveIntermediate), globally. This file therefore makes a hierarchy of its own (root +
 * name-constrained intermediate) which becomes the newest active intermediate while it runs, so the
 * drill never touches the shared test hierarchy; integration files run one at a time
 * (vitest.config.ts fileParallelism: false), so no other file issues meanwhile. Afterwards the
 * successor is set to `retiring`, which makes the shared intermediate the active one again.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { and, eq, inArray } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { issuerCompromiseWorkflowId, type CompromiseReport } from '../../core/issuer-compromise.js';
import type { StepFailure } from '../../core/until-done.js';
import { bulkProgressQuery, bulkWorkflowId } from '../../contracts/bulk-messages.js';
import { drillStatusQuery } from '../../contracts/issuer-compromise-messages.js';
import { permittedDnsZonesOf } from '../../activities/successor-intermediate.js';
import { createIntermediateCa, createRootCa } from '../../ca/authority.js';
import { issuerRow } from '../../activities/issuer-row.js';
import { certificateFacts } from '../../ca/certificate-facts.js';
import { derToPem } from '../../ca/pem.js';
import { issuerUrls } from '../../ca/profiles.js';
import { randomSerial } from '../../ca/serial.js';
import { x509 } from '../../ca/x509.js';
import { findBulkOperation } from '../../db/bulk.js';
import { newId } from '../../db/ids.js';
import { findActiveIntermediate, findIssuer, insertIssuer } from '../../db/issuers.js';
import { issuers } from '../../db/schema.js';
import { listVersions } from '../../db/versions.js';
import { authHeaders, eventually, TEST_BOOTSTRAP_TOKEN, TEST_KEK_HEX, TEST_PUBLIC_URL } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';
import { makePostgresRefuseConnections } from '../support/postgres-outage.js';

const execFileAsync = promisify(execFile);
const CERTIFICATES = 6;

async function openssl(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('openssl', args, { encoding: 'utf8' });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, output: (failed.stdout ?? '') + (failed.stderr ?? '') };
  }
}

let rootId: string;
let oldIssuerId: string;
let successorId: string | null = null;

const file = (name: string) => join(suite.harness.deliveryRoot, name);

/** Intermediates of this file (old and successors), given back as `retiring` afterwards. */
const ownIntermediates: string[] = [];

/** A root and a name-constrained intermediate of this file's own; the intermediate becomes the newest active one. */
async function createDedicatedHierarchy(label = ''): Promise<{ rootId: string; intermediateId: string }> {
  const kek = Buffer.from(TEST_KEK_HEX, 'hex');
  const now = new Date();
  const ids = { rootId: newId('iss'), intermediateId: newId('iss') };
  const rootName = `Certflow Drill${label} Root CA`;
  const intermediateName = `Certflow Drill${label} Issuing CA 1`;
  const root = await createRootCa({ commonName: rootName, organization: 'Certflow Drill', keyAlgorithm: 'ECDSA-P384', validityDays: 3650, now, serial: randomSerial });
  const intermediate = await createIntermediateCa(
    { certificate: root.certificate, signingKey: root.keys.privateKey, keyAlgorithm: root.keyAlgorithm, urls: issuerUrls(TEST_PUBLIC_URL, ids.rootId) },
    { commonName: intermediateName, organization: 'Certflow Drill', keyAlgorithm: 'ECDSA-P256', validityDays: 1825, now, serial: randomSerial, permittedDnsZones: ['example.test'] },
  );
  for (const [id, kind, parentId, ca, commonName] of [
    [ids.rootId, 'root', null, root, rootName],
    [ids.intermediateId, 'intermediate', ids.rootId, intermediate, intermediateName],
  ] as const) {
    await insertIssuer(suite.harness.db, await issuerRow(kek, { id, kind, parentId, commonName }, ca));
  }
  ownIntermediates.push(ids.intermediateId);
  expect((await findActiveIntermediate(suite.harness.db))?.id).toBe(ids.intermediateId);
  return ids;
}

const suite = useIntegrationSuite('issuer-compromise', {
  worker: true,
  team: true,
  // Give the shared hierarchy back to the files that run after this one.
  teardown: async () => {
    if (suite.harness && ownIntermediates.length > 0) {
      await suite.harness.db.update(issuers).set({ status: 'retiring' }).where(and(inArray(issuers.id, ownIntermediates), eq(issuers.status, 'active')));
    }
  },
});

beforeAll(async () => {
  ({ rootId, intermediateId: oldIssuerId } = await createDedicatedHierarchy());
});

async function request(path: string, init: RequestInit = {}): Promise<Response> {
  return suite.harness.app.request(path, init);
}

/** The issuer's certificate and its current CRL, as PEM files named after `name`. */
async function fetchIssuerFiles(issuerId: string, name: string): Promise<{ certificate: string; crl: string }> {
  const certificate = await request(`/pki/issuers/${issuerId}.crt`);
  expect(certificate.status).toBe(200);
  await writeFile(file(`${name}.pem`), derToPem(Buffer.from(await certificate.arrayBuffer()), 'CERTIFICATE'));
  const crl = await request(`/pki/issuers/${issuerId}.crl`);
  expect(crl.status).toBe(200);
  await writeFile(file(`${name}-crl.pem`), derToPem(Buffer.from(await crl.arrayBuffer()), 'X509 CRL'));
  return { certificate: file(`${name}.pem`), crl: file(`${name}-crl.pem`) };
}

interface CertificateView {
  state: string;
  currentVersion: { serial: string; issuerId: string } | null;
}

describe('issuer compromise drill', () => {
  it('replaces everything under a compromised intermediate, revokes it, and openssl agrees', async () => {
    // 1. Six certificates with file destinations, signed by the dedicated intermediate.
    const ids: string[] = [];
    for (let n = 1; n <= CERTIFICATES; n++) {
      const created = await request('/v1/certificates', {
        method: 'POST',
        headers: authHeaders(suite.team.requester),
        body: JSON.stringify({
          team: suite.team.teamName,
          commonName: `drill-${n}.example.test`,
          dnsNames: [`drill-${n}.example.test`],
          validity: 'P7D',
          destinations: [{ type: 'file', directory: `drill/${n}` }],
        }),
      });
      expect(created.status).toBe(202);
      ids.push(((await created.json()) as { id: string }).id);
    }
    const oldSerials = new Map<string, string>();
    for (const [index, id] of ids.entries()) {
      const view = await eventually(async () => {
        const body = (await (await request(`/v1/certificates/${id}`, { headers: authHeaders(suite.team.requester, false) })).json()) as CertificateView;
        return body.state === 'active' ? body : undefined;
      }, { timeoutMs: 30_000, what: `certificate ${id} to be active` });
      expect(view.currentVersion!.issuerId).toBe(oldIssuerId);
      oldSerials.set(id, view.currentVersion!.serial);
      const bundle = await (await request(`/v1/certificates/${id}/certificate.pem`, { headers: authHeaders(suite.team.requester, false) })).text();
      await writeFile(file(`old-leaf-${index + 1}.pem`), `${bundle.slice(0, bundle.indexOf('-----END CERTIFICATE-----') + '-----END CERTIFICATE-----'.length)}\n`);
    }
    // The hourly schedule's workflow, once: the dedicated root and intermediate publish their first CRLs.
    await suite.harness.client.workflow.execute('crlPublication', { taskQueue: suite.harness.taskQueue, workflowId: `crl-publication-${suite.harness.taskQueue}` });
    const root = await fetchIssuerFiles(rootId, 'root');
    const oldIntermediateBefore = await fetchIssuerFiles(oldIssuerId, 'old-intermediate-before');
    const before = await openssl(['verify', '-crl_check', '-CAfile', root.certificate, '-untrusted', oldIntermediateBefore.certificate, '-CRLfile', oldIntermediateBefore.crl, file('old-leaf-1.pem')]);
    expect(before.output.trim()).toBe(`${file('old-leaf-1.pem')}: OK`);

    // 2. Who may start it, and on what.
    const compromise = (issuerId: string, token: string, body: unknown = { reason: 'key found in a public repository (drill)', maxConcurrent: 3, maxPerSecond: 20 }) =>
      request(`/v1/issuers/${issuerId}/compromise`, { method: 'POST', headers: authHeaders(token), body: JSON.stringify(body) });
    expect((await compromise(oldIssuerId, suite.team.requester)).status).toBe(403);
    expect((await compromise(oldIssuerId, suite.team.admin)).status).toBe(403); // a team admin is not a platform admin
    expect((await compromise('iss_doesnotexist', TEST_BOOTSTRAP_TOKEN)).status).toBe(404);
    expect((await compromise(rootId, TEST_BOOTSTRAP_TOKEN)).status).toBe(409);
    expect((await compromise(oldIssuerId, TEST_BOOTSTRAP_TOKEN, { reason: '' })).status).toBe(400);
    expect((await request(`/v1/issuers/${oldIssuerId}/compromise`, { headers: authHeaders(TEST_BOOTSTRAP_TOKEN, false) })).status).toBe(404);

    // 3. The drill, through the API; a second start while it runs (or after) is refused.
    const started = await compromise(oldIssuerId, TEST_BOOTSTRAP_TOKEN);
    expect(started.status).toBe(202);
    expect(await started.json()).toEqual({ workflowId: `issuer-compromise/${oldIssuerId}`, issuerId: oldIssuerId, state: 'running' });
    expect((await compromise(oldIssuerId, TEST_BOOTSTRAP_TOKEN)).status).toBe(409);
    const done = await eventually(async () => {
      const response = await request(`/v1/issuers/${oldIssuerId}/compromise`, { headers: authHeaders(TEST_BOOTSTRAP_TOKEN, false) });
      const body = (await response.json()) as { state: string; report: CompromiseReport | null; error?: string };
      if (body.state === 'failed') throw new Error(`the drill failed: ${body.error}`);
      return body.state === 'completed' ? body : undefined;
    }, { timeoutMs: 150_000, intervalMs: 500, what: 'the drill to complete' });
    const report = done.report!;
    successorId = report.successorId;
    ownIntermediates.push(successorId);

    // 4. The report: every certificate replaced, nothing failed, timings in order.
    expect(report).toMatchObject({ issuerId: oldIssuerId, outcome: 'completed', truncated: false, failed: [] });
    expect(report.counts).toMatchObject({ selected: CERTIFICATES, replaced: CERTIFICATES, failedOrRemaining: 0, revoked: CERTIFICATES, failed: 0, skipped: 0 });
    expect(report.replaced.map((item) => item.certificateId).sort()).toEqual([...ids].sort());
    const t = report.timings;
    const order = [t.startedAt, t.markedAt, t.successorAt, t.reissueStartedAt, t.reissueFinishedAt, t.revokedAt!, t.finishedAt].map((at) => new Date(at).getTime());
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(t.totalSeconds).toBeGreaterThan(0);
    expect(report.crls.map((crl) => crl.issuerId)).toEqual([rootId, oldIssuerId]);
    expect((await findBulkOperation(suite.harness.db, report.bulkId))?.state).toBe('completed');

    // 5. The issuers: old revoked (keyCompromise), successor active under the same root, same algorithm and constraints.
    const old = (await findIssuer(suite.harness.db, oldIssuerId))!;
    expect(old).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise' });
    const successor = (await findIssuer(suite.harness.db, successorId))!;
    expect(successor).toMatchObject({ kind: 'intermediate', status: 'active', parentId: rootId, keyAlgorithm: 'ECDSA-P256', commonName: 'Certflow Drill Issuing CA 2' });
    expect(permittedDnsZonesOf(new x509.X509Certificate(successor.certificatePem))).toEqual(['example.test']);
    expect((await findActiveIntermediate(suite.harness.db))?.id).toBe(successorId);

    // 6. Every certificate: exactly one active version, by the successor; the old one revoked; the new one delivered.
    for (const [index, id] of ids.entries()) {
      const versions = await listVersions(suite.harness.db, id);
      const active = versions.filter((version) => version.status === 'active');
      expect(active).toHaveLength(1);
      expect(active[0]!.issuerId).toBe(successorId);
      const previous = versions.find((version) => version.serial === oldSerials.get(id))!;
      expect(previous).toMatchObject({ status: 'revoked', revocationReason: 'superseded' });
      const replaced = report.replaced.find((item) => item.certificateId === id)!;
      expect(replaced).toMatchObject({ oldSerial: oldSerials.get(id), newSerial: active[0]!.serial, newIssuerId: successorId, oldRevoked: true });
      const delivered = await readFile(join(suite.harness.deliveryRoot, `drill/${index + 1}/cert.pem`), 'utf8');
      expect(certificateFacts(delivered).serial).toBe(active[0]!.serial);
      await writeFile(file(`new-leaf-${index + 1}.pem`), delivered);
    }

    // 7. openssl as a relying party, with the CRLs served by /pki (converted to PEM).
    const rootAfter = await fetchIssuerFiles(rootId, 'root-after');
    const oldIntermediate = await fetchIssuerFiles(oldIssuerId, 'old-intermediate');
    const newIntermediate = await fetchIssuerFiles(successorId, 'new-intermediate');
    const rootCrlText = await openssl(['crl', '-in', rootAfter.crl, '-noout', '-text']);
    expect(rootCrlText.output).toMatch(new RegExp(`Serial Number: ${certificateFacts(old.certificatePem).serial.toUpperCase()}\\s+Revocation Date: [^\\n]+\\s+CRL entry extensions:\\s+X509v3 CRL Reason Code:\\s+Key Compromise`));
    for (let n = 1; n <= CERTIFICATES; n++) {
      const oldLeaf = file(`old-leaf-${n}.pem`);
      // The leaf's own CRL: the superseded leaf is listed.
      const oldChecked = await openssl(['verify', '-crl_check', '-CAfile', root.certificate, '-untrusted', oldIntermediate.certificate, '-CRLfile', oldIntermediate.crl, oldLeaf]);
      expect(oldChecked.code).not.toBe(0);
      expect(oldChecked.output).toContain('error 23 at 0 depth lookup: certificate revoked');
      // The whole chain: the intermediate is revoked in the root's CRL as well.
      const oldChain = await openssl(['verify', '-crl_check_all', '-CAfile', root.certificate, '-untrusted', oldIntermediate.certificate, '-CRLfile', oldIntermediate.crl, '-CRLfile', rootAfter.crl, oldLeaf]);
      expect(oldChain.code).not.toBe(0);
      expect(oldChain.output).toMatch(/error 23 at [01] depth lookup: certificate revoked/);

      const newLeaf = file(`new-leaf-${n}.pem`);
      const newChecked = await openssl(['verify', '-crl_check', '-CAfile', root.certificate, '-untrusted', newIntermediate.certificate, '-CRLfile', newIntermediate.crl, newLeaf]);
      expect(newChecked.output.trim()).toBe(`${newLeaf}: OK`);
      const newChain = await openssl(['verify', '-crl_check_all', '-CAfile', root.certificate, '-untrusted', newIntermediate.certificate, '-CRLfile', newIntermediate.crl, '-CRLfile', rootAfter.crl, newLeaf]);
      expect(newChain.output.trim()).toBe(`${newLeaf}: OK`);
    }
    // The old intermediate itself, against the root's CRL.
    const intermediateChecked = await openssl(['verify', '-crl_check', '-CAfile', root.certificate, '-CRLfile', rootAfter.crl, oldIntermediate.certificate]);
    expect(intermediateChecked.output).toContain('error 23 at 0 depth lookup: certificate revoked');

    // 8. Done is done: the intermediate is revoked, a new start is refused; the stored report is served.
    expect((await compromise(oldIssuerId, TEST_BOOTSTRAP_TOKEN)).status).toBe(409);
    const again = (await (await request(`/v1/issuers/${oldIssuerId}/compromise`, { headers: authHeaders(TEST_BOOTSTRAP_TOKEN, false) })).json()) as { report: CompromiseReport };
    expect(again.report).toEqual(report);
  });

  it('survives a Postgres outage of 30 s in the middle of the reissue: completed, not failed, the failure shown meanwhile', { timeout: 360_000 }, async () => {
    const hierarchy = await createDedicatedHierarchy(' Outage');
    const ids: string[] = [];
    for (let n = 1; n <= 3; n++) {
      const created = await request('/v1/certificates', {
        method: 'POST',
        headers: authHeaders(suite.team.requester),
        body: JSON.stringify({ team: suite.team.teamName, dnsNames: [`drill-outage-${n}.example.test`], validity: 'P7D', destinations: [{ type: 'file', directory: `drill-outage/${n}` }] }),
      });
      expect(created.status).toBe(202);
      ids.push(((await created.json()) as { id: string }).id);
    }
    for (const id of ids) {
      const view = await eventually(async () => {
        const body = (await (await request(`/v1/certificates/${id}`, { headers: authHeaders(suite.team.requester, false) })).json()) as CertificateView;
        return body.state === 'active' ? body : undefined;
      }, { timeoutMs: 30_000, what: `certificate ${id} to be active` });
      expect(view.currentVersion!.issuerId).toBe(hierarchy.intermediateId);
    }

    const started = await request(`/v1/issuers/${hierarchy.intermediateId}/compromise`, {
      method: 'POST',
      headers: authHeaders(TEST_BOOTSTRAP_TOKEN),
      body: JSON.stringify({ reason: 'drill under a database outage', maxConcurrent: 1, maxPerSecond: 1 }),
    });
    expect(started.status).toBe(202);
    const drill = suite.harness.client.workflow.getHandle(issuerCompromiseWorkflowId(hierarchy.intermediateId));
    const status = await eventually(async () => {
      const current = await drill.query(drillStatusQuery);
      return current.phase === 'reissuing' && current.bulkId ? current : undefined;
    }, { timeoutMs: 60_000, intervalMs: 100, what: 'the drill to be reissuing' });

    // Postgres goes away (connections cut, new ones refused) while the reissue runs.
    const outage = await makePostgresRefuseConnections(suite.harness.databaseUrl);
    const seen: StepFailure[] = [];
    try {
      const endsAt = Date.now() + 30_000;
      while (Date.now() < endsAt) {
        const [drillStatus, progress] = await Promise.all([drill.query(drillStatusQuery).catch(() => null), suite.harness.client.workflow.getHandle(bulkWorkflowId(status.bulkId!)).query(bulkProgressQuery).catch(() => null)]);
        for (const failure of [drillStatus?.lastError, progress?.lastError]) if (failure) seen.push(failure);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    } finally {
      await outage.end();
    }
    expect(seen.length, 'lastError shown during the outage').toBeGreaterThan(0);
    expect((await drill.describe()).status.name, 'the drill is still running after the outage').toBe('RUNNING');

    const done = await eventually(async () => {
      const response = await request(`/v1/issuers/${hierarchy.intermediateId}/compromise`, { headers: authHeaders(TEST_BOOTSTRAP_TOKEN, false) });
      const body = (await response.json()) as { state: string; report: CompromiseReport | null; error?: string };
      if (body.state === 'failed') throw new Error(`the drill failed: ${body.error}`);
      return body.state === 'completed' ? body : undefined;
    }, { timeoutMs: 240_000, intervalMs: 1_000, what: 'the drill to complete after the outage' });
    const report = done.report!;
    ownIntermediates.push(report.successorId);
    expect(report).toMatchObject({ outcome: 'completed', failed: [] });
    expect(report.counts).toMatchObject({ selected: 3, replaced: 3, failedOrRemaining: 0, revoked: 3, failed: 0, skipped: 0 });
    expect(await findBulkOperation(suite.harness.db, report.bulkId)).toMatchObject({ state: 'completed' });
    expect(await findIssuer(suite.harness.db, hierarchy.intermediateId)).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise' });
    for (const id of ids) {
      const active = (await listVersions(suite.harness.db, id)).filter((version) => version.status === 'active');
      expect(active.map((version) => version.issuerId), id).toEqual([report.successorId]);
    }
  });
});
