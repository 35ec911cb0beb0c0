/**
 * Revocation end to end on the real Temporal dev server and real Postgres, checked by the openssl
 * binary as a relying party over real HTTP: a certificate is issued through the API, the CRL
 * publication schedule publishes CRLs, `openssl crl` / `openssl verify -crl_check` / `openssl ocsp`
 * accept it; after a revocation through the API (keyCompromise) they reject it, the CRL number has
 * grown, and the GET form of OCSP answers the same.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { sequence } from '../../ca/der-writer.js';
import { encodeCertId, issuerHashes } from '../../ca/ocsp.js';
import { derToPem } from '../../ca/pem.js';
import { CRL_PUBLICATION_INTERVAL, ensureCrlPublicationSchedule } from '../../cmd/start-worker.js';
import { findCrl } from '../../db/revocation.js';
import type { CrlPublicationResult } from '../../workflows/crl-publication.js';
import { revokeAndWait } from '../support/revoke.js';
import { authHeaders, eventually, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { certificatesAs, overHttp, useIntegrationSuite } from '../support/integration-suite.js';
import { openssl } from '../unit/ca/support.js';

const suite = useIntegrationSuite('revocation', {
  worker: true,
  team: true,
  http: true,
  teardown: () =>
    suite.harness?.client.schedule
      .getHandle(scheduleId())
      .delete()
      .catch((error: unknown) => {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      }),
});

const scheduleId = () => `crl-publication-${suite.harness.taskQueue}`;

/** The files a relying party has: root, intermediate, chain, leaf — fetched over HTTP. */
const file = (name: string) => join(suite.harness.deliveryRoot, name);

async function http(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${suite.baseUrl}${path}`, init);
}

async function crlNumberOf(issuerId: string): Promise<bigint> {
  const crl = await findCrl(suite.harness.db, issuerId);
  if (!crl) throw new Error(`no CRL stored for ${issuerId}`);
  return crl.crlNumber;
}

/** Downloads the issuer's CRL over HTTP to <name>.der and <name>.pem; returns its number as openssl reads it. */
async function downloadCrl(issuerId: string, name: string): Promise<bigint> {
  const response = await http(`/pki/issuers/${issuerId}.crl`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/pkix-crl');
  const der = Buffer.from(await response.arrayBuffer());
  await writeFile(file(`${name}.der`), der);
  await writeFile(file(`${name}.pem`), derToPem(der, 'X509 CRL'));
  const number = await openssl(['crl', '-inform', 'DER', '-in', file(`${name}.der`), '-noout', '-crlnumber']);
  return BigInt(number.stdout.trim().replace(/^crlNumber=/, ''));
}

describe('revocation: CRLs and OCSP, checked by openssl', () => {
  it('publishes, serves and revokes: openssl crl / verify -crl_check / ocsp agree before and after', async () => {
    // 1. A certificate, issued through the API by the in-process worker.
    const certificates = certificatesAs(overHttp(suite.baseUrl), suite.team.requester);
    const { id } = await certificates.create({ team: suite.team.teamName, commonName: 'revoke-me.example.test', dnsNames: ['revoke-me.example.test'], validity: 'P7D', destinations: [] });
    type View = { state: string; currentVersion: { serial: string; issuerId: string } | null };
    const active = await certificates.waitFor<View>(id, (view) => view.state === 'active', { timeoutMs: 20_000, what: 'the certificate to be active' });
    const version = active.currentVersion!;
    const intermediateId = version.issuerId;
    const issuers = (await (await http('/v1/issuers', { headers: authHeaders(TEST_BOOTSTRAP_TOKEN, false) })).json()) as Array<{ id: string; parentId: string | null }>;
    const rootId = issuers.find((issuer) => issuer.id === intermediateId)!.parentId!;

    // 2. The schedule: created (and run once now), then updated idempotently.
    expect(await ensureCrlPublicationSchedule(suite.harness.client, { taskQueue: suite.harness.taskQueue, scheduleId: scheduleId(), triggerNow: true })).toBe('created');
    expect(await ensureCrlPublicationSchedule(suite.harness.client, { taskQueue: suite.harness.taskQueue, scheduleId: scheduleId() })).toBe('updated');
    const schedule = await suite.harness.client.schedule.getHandle(scheduleId()).describe();
    expect(schedule.spec.intervals?.map((interval) => interval.every)).toEqual([3_600_000]);
    expect(CRL_PUBLICATION_INTERVAL).toBe('1 hour');
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'crlPublication', taskQueue: suite.harness.taskQueue });
    const firstRun = await eventually(async () => {
      const recent = (await suite.harness.client.schedule.getHandle(scheduleId()).describe()).info.recentActions;
      return recent.length > 0 ? recent[0]! : undefined;
    }, { timeoutMs: 20_000, what: 'the schedule to start crlPublication' });
    const scheduled = (await suite.harness.client.workflow.getHandle(firstRun.action.workflow.workflowId, firstRun.action.workflow.firstExecutionRunId).result()) as CrlPublicationResult;
    expect(scheduled.issuers.map((issuer) => issuer.issuerId)).toEqual(expect.arrayContaining([rootId, intermediateId]));
    expect(scheduled.issuers.every((issuer) => issuer.error === null && issuer.crlNumber !== null)).toBe(true);

    // 3. What a relying party fetches: root and intermediate (AIA), the leaf, the CRLs.
    for (const [issuerId, name] of [[rootId, 'root'], [intermediateId, 'intermediate']] as const) {
      const response = await http(`/pki/issuers/${issuerId}.crt`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/pkix-cert');
      await writeFile(file(`${name}.der`), Buffer.from(await response.arrayBuffer()));
      expect((await openssl(['x509', '-inform', 'DER', '-in', file(`${name}.der`), '-out', file(`${name}.pem`)])).code).toBe(0);
    }
    await writeFile(file('chain.pem'), `${await readFile(file('intermediate.pem'), 'utf8')}${await readFile(file('root.pem'), 'utf8')}`);
    const roots = await (await http('/pki/roots.pem')).text();
    expect(roots).toContain((await readFile(file('root.pem'), 'utf8')).trim());
    const bundle = await (await http(`/v1/certificates/${id}/certificate.pem`, { headers: authHeaders(suite.team.requester, false) })).text();
    await writeFile(file('leaf.pem'), `${bundle.slice(0, bundle.indexOf('-----END CERTIFICATE-----') + '-----END CERTIFICATE-----'.length)}\n`);
    const leafSerial = (await openssl(['x509', '-in', file('leaf.pem'), '-noout', '-serial'])).stdout.trim().replace(/^serial=/, '');
    expect(leafSerial.toLowerCase()).toBe(version.serial);

    const crlBefore = await downloadCrl(intermediateId, 'crl-before');
    const crlCheck = await openssl(['crl', '-inform', 'DER', '-in', file('crl-before.der'), '-CAfile', file('chain.pem'), '-noout']);
    expect(crlCheck.stderr.trim()).toBe('verify OK');
    const rootCrl = await openssl(['crl', '-inform', 'DER', '-in', file('crl-before.der'), '-noout', '-issuer']);
    expect(rootCrl.stdout).toContain('Certflow Test Issuing CA');
    await downloadCrl(rootId, 'root-crl');
    expect((await openssl(['crl', '-inform', 'DER', '-in', file('root-crl.der'), '-CAfile', file('root.pem'), '-noout'])).stderr.trim()).toBe('verify OK');

    const verifyArgs = ['verify', '-crl_check', '-CAfile', file('root.pem'), '-untrusted', file('intermediate.pem'), file('leaf.pem')];
    const verifiedBefore = await openssl([...verifyArgs.slice(0, 2), '-CRLfile', file('crl-before.pem'), ...verifyArgs.slice(2)]);
    expect(verifiedBefore.stdout.trim()).toBe(`${file('leaf.pem')}: OK`);
    // The whole chain, with the root's CRL for the intermediate.
    const verifiedAll = await openssl(['verify', '-crl_check_all', '-CRLfile', file('crl-before.pem'), '-CRLfile', file('root-crl.pem'), '-CAfile', file('root.pem'), '-untrusted', file('intermediate.pem'), file('leaf.pem')]);
    expect(verifiedAll.stdout.trim()).toBe(`${file('leaf.pem')}: OK`);

    const ocspArgs = ['ocsp', '-issuer', file('intermediate.pem'), '-cert', file('leaf.pem'), '-url', `${suite.baseUrl}/pki/ocsp`, '-CAfile', file('chain.pem')];
    const good = await openssl(ocspArgs);
    expect(good.stdout).toContain(`${file('leaf.pem')}: good`);
    expect(good.stderr).toContain('Response verify OK');
    // Pre-signed responses carry no nonce: openssl warns, and accepts.
    expect(good.stderr).toContain('WARNING: no nonce in response');
    expect(good.code).toBe(0);
    const goodSha256 = await openssl(['ocsp', '-sha256', '-no_nonce', ...ocspArgs.slice(1), '-resp_text']);
    expect(goodSha256.stdout).toContain('Hash Algorithm: sha256');
    expect(goodSha256.stdout).toContain(`${file('leaf.pem')}: good`);
    // The root answers for the intermediate (pre-signed by the scheduled run).
    const intermediateStatus = await openssl(['ocsp', '-no_nonce', '-issuer', file('root.pem'), '-cert', file('intermediate.pem'), '-url', `${suite.baseUrl}/pki/ocsp`, '-CAfile', file('root.pem')]);
    expect(intermediateStatus.stdout).toContain(`${file('intermediate.pem')}: good`);

    // 4. Revoke through the API: keyCompromise.
    await revokeAndWait(suite.harness.app, id, suite.team.requester, 'keyCompromise');

    // The revocation activity published at once: a higher CRL number, the serial listed with its reason.
    const crlAfter = await downloadCrl(intermediateId, 'crl-after');
    expect(crlAfter).toBeGreaterThan(crlBefore);
    expect(await crlNumberOf(intermediateId)).toBe(crlAfter);
    expect((await openssl(['crl', '-inform', 'DER', '-in', file('crl-after.der'), '-CAfile', file('chain.pem'), '-noout'])).stderr.trim()).toBe('verify OK');
    const text = await openssl(['crl', '-inform', 'DER', '-in', file('crl-after.der'), '-noout', '-text']);
    const entry = text.stdout.slice(text.stdout.indexOf(`Serial Number: ${leafSerial}`));
    expect(entry).toMatch(new RegExp(`^Serial Number: ${leafSerial}\\s+Revocation Date: [^\\n]+\\s+CRL entry extensions:\\s+X509v3 CRL Reason Code:\\s+Key Compromise`));

    const verifiedAfter = await openssl([...verifyArgs.slice(0, 2), '-CRLfile', file('crl-after.pem'), ...verifyArgs.slice(2)]);
    expect(verifiedAfter.code).not.toBe(0);
    expect(verifiedAfter.stdout + verifiedAfter.stderr).toContain('error 23 at 0 depth lookup: certificate revoked');

    const revokedOcsp = await openssl(ocspArgs);
    expect(revokedOcsp.stderr).toContain('Response verify OK');
    expect(revokedOcsp.stdout).toContain(`${file('leaf.pem')}: revoked`);
    expect(revokedOcsp.stdout).toContain('Reason: keyCompromise');

    // 5. The GET form (RFC 6960 A.1): URL-encoded base64 of the DER request.
    expect((await openssl(['ocsp', '-issuer', file('intermediate.pem'), '-cert', file('leaf.pem'), '-no_nonce', '-reqout', file('request.der')])).code).toBe(0);
    const base64 = (await readFile(file('request.der'))).toString('base64');
    for (const path of [encodeURIComponent(base64), base64]) {
      const response = await http(`/pki/ocsp/${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/ocsp-response');
      expect(response.headers.get('cache-control')).toMatch(/^max-age=\d+, public, no-transform, must-revalidate$/);
      await writeFile(file('get-response.der'), Buffer.from(await response.arrayBuffer()));
      const viaGet = await openssl(['ocsp', '-respin', file('get-response.der'), '-issuer', file('intermediate.pem'), '-cert', file('leaf.pem'), '-no_nonce', '-CAfile', file('chain.pem')]);
      expect(viaGet.stderr).toContain('Response verify OK');
      expect(viaGet.stdout).toContain(`${file('leaf.pem')}: revoked`);
      expect(viaGet.stdout).toContain('Reason: keyCompromise');
    }

    // 6. The CRL number keeps growing: the workflow publishes again (as the schedule does hourly).
    const rerun = await suite.harness.client.workflow.execute('crlPublication', { taskQueue: suite.harness.taskQueue, workflowId: `crl-publication-rerun-${suite.harness.taskQueue}` });
    const rerunNumber = BigInt((rerun as CrlPublicationResult).issuers.find((issuer) => issuer.issuerId === intermediateId)!.crlNumber!);
    expect(rerunNumber).toBeGreaterThan(crlAfter);
    const crlLast = await downloadCrl(intermediateId, 'crl-last');
    expect(crlLast).toBeGreaterThanOrEqual(rerunNumber);
    expect((await openssl(['crl', '-inform', 'DER', '-in', file('crl-last.der'), '-noout', '-text'])).stdout).toContain(`Serial Number: ${leafSerial}`);
  });

  it('gives concurrent publications of one issuer distinct, growing CRL numbers', async () => {
    const issuers = (await (await http('/v1/issuers', { headers: authHeaders(TEST_BOOTSTRAP_TOKEN, false) })).json()) as Array<{ id: string; kind: string }>;
    const intermediate = issuers.find((issuer) => issuer.kind === 'intermediate');
    const before = await crlNumberOf(intermediate!.id).catch(() => 0n);
    const runs = await Promise.all(
      [1, 2, 3].map((n) => suite.harness.client.workflow.execute('crlPublication', { taskQueue: suite.harness.taskQueue, workflowId: `crl-publication-concurrent-${n}-${suite.harness.taskQueue}` })),
    );
    const numbers = runs.map((run) => BigInt((run as CrlPublicationResult).issuers.find((issuer) => issuer.issuerId === intermediate!.id)!.crlNumber!));
    expect(new Set(numbers.map(String)).size).toBe(3);
    expect(numbers.every((number) => number > before)).toBe(true);
    expect(await crlNumberOf(intermediate!.id)).toBe(numbers.reduce((a, b) => (a > b ? a : b)));
  });

  it('answers HTTP problems and OCSP refusals as documented', async () => {
    const missing = await http('/pki/issuers/iss_does_not_exist.crl');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(((await missing.json()) as { type: string }).type).toBe('/problems/not-found');
    expect((await http('/pki/issuers/not-a-file')).status).toBe(404);

    const post = async (body: Uint8Array) => {
      const response = await http('/pki/ocsp', { method: 'POST', headers: { 'Content-Type': 'application/ocsp-request' }, body: new Uint8Array(body) });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/ocsp-response');
      return Buffer.from(await response.arrayBuffer()).toString('hex');
    };
    expect(await post(Buffer.from('not an OCSP request'))).toBe('30030a0101'); // malformedRequest
    expect(Buffer.from(await (await http('/pki/ocsp/%%%')).arrayBuffer()).toString('hex')).toBe('30030a0101');
    expect(await post(Buffer.alloc(64 * 1024, 0x30))).toBe('30030a0101'); // over the body limit

    // A CertID naming an issuer Certflow does not have → unauthorized.
    const random = { nameHash: Buffer.alloc(20, 1), keyHash: Buffer.alloc(20, 2) };
    const strangerId = encodeCertId('sha1', { sha1: random, sha256: { nameHash: Buffer.alloc(32, 1), keyHash: Buffer.alloc(32, 2) } }, '0102');
    // OCSPRequest { TBSRequest { requestList { Request { CertID } } } }
    const request = (certId: Buffer) => sequence(sequence(sequence(sequence(certId))));
    expect(await post(request(strangerId))).toBe('30030a0106');

    // A Certflow issuer, but a serial it never signed → unauthorized too (RFC 5019 §2.2.3).
    const issuers = (await (await http('/v1/issuers', { headers: authHeaders(TEST_BOOTSTRAP_TOKEN, false) })).json()) as Array<{ certificatePem: string }>;
    const hashes = issuerHashes(issuers[0]!.certificatePem);
    expect(await post(request(encodeCertId('sha256', hashes, '7fffffffffffffff')))).toBe('30030a0106');
  });
});
