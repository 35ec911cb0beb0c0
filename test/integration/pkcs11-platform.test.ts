/**
 * The platform end to end with its CA keys in SoftHSM2 (issue 11: "the PKCS#11 signer is tested on SoftHSM2 but the
 * running platform cannot use it"). A fresh token is initialized by this file (softhsm2-util --init-token with a
 * temp SOFTHSM2_CONF); `cmd/worker.ts` runs as a child process configured like production — CERTFLOW_SIGNER=pkcs11,
 * the module, the token label and a PIN file — against a database of this file's own (so the shared test
 * hierarchy, whose keys are software keys, is not the one it finds). Then, as relying parties see it:
 *
 *  - bootstrap created root and intermediate inside the token: the issuer rows hold a key reference and no sealed
 *    key, and the certificates certify the token's public keys;
 *  - the keys are sensitive and never extractable: the token refuses to reveal CKA_VALUE and to wrap them out;
 *  - a certificate is issued, renewed and revoked through the API; `openssl verify` accepts the chains, `openssl
 *    crl` verifies the CRL signed by the HSM intermediate (listing the revoked serial), `openssl ocsp` verifies the
 *    HSM-signed response saying `revoked`;
 *  - the compromise drill's successor intermediate is created in the token too, and the reissued leaf verifies.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pkcs11KeyLabel } from '../../activities/ca-keys.js';
import { certificateFacts } from '../../ca/certificate-facts.js';
import { derToPem } from '../../ca/pem.js';
import { openPkcs11Session, pkcs11Code, readKeyProtection, readPublicKey, type Pkcs11Session } from '../../ca/pkcs11-signer.js';
import type { CompromiseReport } from '../../core/issuer-compromise.js';
import { ensureDebianTools } from '../../scripts/test-tools.js';
import { runTool } from '../external/run.js';
import { authHeaders, createHarness, createTeamWithTokens, eventually, startChildWorker, TEST_BOOTSTRAP_TOKEN, type ChildWorker, type Harness, type Team } from '../support/harness.js';
import { certificatesAs, overHttp, serveOverHttp, type HttpServer } from '../support/integration-suite.js';
import { revokeAndWait } from '../support/revoke.js';
import { openssl } from '../unit/ca/support.js';

const TOKEN_LABEL = 'certflow-platform';
const PIN = '731946';
const SO_PIN = '86420864';

let dir: string;
let modulePath: string;
let harness: Harness;
let worker: ChildWorker | undefined;
let server: HttpServer | undefined;
let team: Team;
let rootId: string;
let intermediateId: string;
const timings: Record<string, number> = {};

const file = (name: string) => join(dir, name);

async function timed<T>(what: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await step();
  } finally {
    timings[what] = Date.now() - started;
  }
}

async function http(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${server!.baseUrl}${path}`, init);
}

/** A session of this test process on the token (SoftHSM2 reads the worker's objects from the same token dir). */
async function tokenSession<T>(use: (session: Pkcs11Session) => T | Promise<T>): Promise<T> {
  const session = await openPkcs11Session({ modulePath, tokenLabel: TOKEN_LABEL, pin: PIN });
  try {
    return await use(session);
  } finally {
    session.close();
  }
}

interface IssuerColumns {
  id: string;
  kind: string;
  parent_id: string | null;
  key_backend?: string;
  key_ref?: string | null;
  sealed_private_key: string | null;
  certificate_pem: string;
}

async function issuerRows(): Promise<IssuerColumns[]> {
  return (await harness.pool.query<IssuerColumns>('select * from issuers order by created_at, id')).rows;
}

/** The details of the one `issuer.created` audit event of an issuer. */
async function issuerCreatedDetails(issuerId: string): Promise<Record<string, unknown>> {
  const { rows } = await harness.pool.query<{ details: Record<string, unknown> }>("select details from audit_events where action = 'issuer.created' and details->>'issuerId' = $1", [issuerId]);
  expect(rows, `issuer.created of ${issuerId}`).toHaveLength(1);
  return rows[0]!.details;
}

/** Downloads an issuer's certificate (AIA) to <name>.pem. */
async function downloadIssuer(issuerId: string, name: string): Promise<string> {
  const response = await http(`/pki/issuers/${issuerId}.crt`);
  expect(response.status).toBe(200);
  await writeFile(file(`${name}.pem`), derToPem(Buffer.from(await response.arrayBuffer()), 'CERTIFICATE'));
  return file(`${name}.pem`);
}

/** The leaf of a certificate's current version, to <name>.pem. */
async function downloadLeaf(certificateId: string, name: string): Promise<string> {
  const bundle = await (await http(`/v1/certificates/${certificateId}/certificate.pem`, { headers: authHeaders(team.requester, false) })).text();
  const end = '-----END CERTIFICATE-----';
  await writeFile(file(`${name}.pem`), `${bundle.slice(0, bundle.indexOf(end) + end.length)}\n`);
  return file(`${name}.pem`);
}

async function downloadCrl(issuerId: string, name: string): Promise<string> {
  const response = await http(`/pki/issuers/${issuerId}.crl`);
  expect(response.status).toBe(200);
  await writeFile(file(`${name}.der`), Buffer.from(await response.arrayBuffer()));
  return file(`${name}.der`);
}

type View = { state: string; currentVersion: { generation: number; serial: string; issuerId: string } | null };

beforeAll(async () => {
  const tools = await ensureDebianTools(process.env, (message) => process.stderr.write(`[pkcs11-platform] ${message}\n`));
  modulePath = tools.softhsmModule;
  dir = await mkdtemp(join(inject('tempDir'), 'pkcs11-platform-'));
  await mkdir(join(dir, 'tokens'));
  const conf = file('softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  // SoftHSM2 reads its config at C_Initialize: this process (for inspecting the token), softhsm2-util and the worker.
  process.env['SOFTHSM2_CONF'] = conf;
  const init = await timed('softhsm2-util --init-token', () => runTool(tools.softhsm2Util, ['--init-token', '--free', '--label', TOKEN_LABEL, '--pin', PIN, '--so-pin', SO_PIN]));
  expect(init.code, init.stderr).toBe(0);
  await writeFile(file('pin'), `${PIN}\n`, { mode: 0o600 });

  // A database of this file's own on the shared Postgres: the worker bootstraps the CA hierarchy in it.
  const shared = new URL(inject('databaseUrl'));
  const database = `certflow_pkcs11_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: shared.toString() });
  await admin.connect();
  try {
    await admin.query(`create database ${database}`);
  } finally {
    await admin.end();
  }
  const own = new URL(shared.toString());
  own.pathname = `/${database}`;
  harness = await createHarness('pkcs11', { databaseUrl: own.toString(), bootstrapCa: false });

  worker = startChildWorker(harness, {
    CERTFLOW_SIGNER: 'pkcs11',
    CERTFLOW_PKCS11_MODULE: modulePath,
    CERTFLOW_PKCS11_TOKEN_LABEL: TOKEN_LABEL,
    CERTFLOW_PKCS11_PIN_FILE: file('pin'),
    SOFTHSM2_CONF: conf,
  });
  await timed('worker start (migrations, CA bootstrap in the token)', () =>
    Promise.race([worker!.ready, new Promise((_, reject) => setTimeout(() => reject(new Error(`the worker did not start in 120 s:\n${worker!.output()}`)), 120_000))]),
  );
  server = await serveOverHttp(harness.app);
  team = await createTeamWithTokens(harness);

  // What the worker bootstrapped (one transaction: the rows share created_at, so find them by kind).
  const rows = await issuerRows();
  rootId = rows.find((row) => row.kind === 'root')!.id;
  intermediateId = rows.find((row) => row.kind === 'intermediate')!.id;
  const rootPem = await downloadIssuer(rootId, 'root');
  const intermediatePem = await downloadIssuer(intermediateId, 'intermediate');
  await writeFile(file('chain.pem'), `${await readFile(intermediatePem, 'utf8')}${await readFile(rootPem, 'utf8')}`);
}, 300_000);

afterAll(async () => {
  await worker?.kill('SIGTERM');
  await server?.close();
  await harness?.close();
  if (timings['softhsm2-util --init-token'] !== undefined) process.stderr.write(`[pkcs11-platform] timings (ms): ${JSON.stringify(timings)}\n`);
});

describe('CA keys in a PKCS#11 token (SoftHSM2), platform end to end', () => {
  it('bootstrap creates root and intermediate inside the token; the rows hold no sealed key; the keys cannot leave the token', async () => {
    const rows = await issuerRows();
    expect(rows.map((row) => row.id).sort()).toEqual([rootId, intermediateId].sort());
    for (const row of rows) {
      expect(row.sealed_private_key, `issuer ${row.id} (${row.kind}) must hold no sealed key`).toBeNull();
      expect(row).toMatchObject({ key_backend: 'pkcs11', key_ref: pkcs11KeyLabel(row.id) });
    }
    expect(rows.find((row) => row.id === intermediateId)!.parent_id).toBe(rootId);
    // No secret-looking column anywhere in the rows.
    expect(JSON.stringify(rows)).not.toMatch(/PRIVATE KEY|v1\.[A-Za-z0-9_-]{16}\./);
    // The worker says where CA keys live, and never logs the PIN.
    // The worker logs JSON lines: the quotes around the label are escaped.
    expect(worker!.output()).toContain(JSON.stringify(`CA keys: PKCS#11 token "${TOKEN_LABEL}"`).slice(1, -1));
    expect(worker!.output()).not.toContain(PIN);
    // The audit log says which issuers were created and where their keys live.
    for (const row of rows) expect(await issuerCreatedDetails(row.id)).toMatchObject({ issuerId: row.id, kind: row.kind, keyBackend: 'pkcs11', keyRef: pkcs11KeyLabel(row.id) });

    await tokenSession(async (session) => {
      const { pkcs11, lib } = session;
      const aes = lib.C_GenerateKey(session.session, { mechanism: pkcs11.CKM_AES_KEY_GEN }, [
        { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
        { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_AES },
        { type: pkcs11.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11.CKA_TOKEN, value: false },
        { type: pkcs11.CKA_WRAP, value: true },
        { type: pkcs11.CKA_EXTRACTABLE, value: true },
      ]);
      for (const row of rows) {
        const label = row.key_ref!;
        const privateKey = session.findObject(pkcs11.CKO_PRIVATE_KEY, label);
        const [tokenObject, privateObject, signOnly] = lib.C_GetAttributeValue(session.session, privateKey, [
          { type: pkcs11.CKA_TOKEN },
          { type: pkcs11.CKA_PRIVATE },
          { type: pkcs11.CKA_SIGN },
        ]);
        expect([tokenObject!.value[0], privateObject!.value[0], signOnly!.value[0]], `${label}: CKA_TOKEN, CKA_PRIVATE, CKA_SIGN`).toEqual([1, 1, 1]);
        expect(readKeyProtection(session, privateKey), label).toEqual({ extractable: false, sensitive: true, neverExtractable: true, alwaysSensitive: true });

        // The secret scalar is refused…
        let readError: unknown;
        try {
          lib.C_GetAttributeValue(session.session, privateKey, [{ type: pkcs11.CKA_VALUE }]);
        } catch (error) {
          readError = error;
        }
        expect(pkcs11Code(readError), `reading CKA_VALUE of ${label}`).toBe(pkcs11.CKR_ATTRIBUTE_SENSITIVE);
        // …wrapping it out under a key of ours is refused…
        let wrapError: unknown;
        try {
          lib.C_WrapKey(session.session, { mechanism: pkcs11.CKM_AES_KEY_WRAP_PAD }, aes, privateKey, Buffer.alloc(4096));
        } catch (error) {
          wrapError = error;
        }
        expect(pkcs11Code(wrapError), `wrapping ${label}`).toBe(pkcs11.CKR_KEY_UNEXTRACTABLE);
        // …and CKA_EXTRACTABLE cannot be switched back on.
        expect(() => lib.C_SetAttributeValue(session.session, privateKey, [{ type: pkcs11.CKA_EXTRACTABLE, value: true }])).toThrow();

        // The certificate certifies the token's public key.
        const publicKey = session.findObject(pkcs11.CKO_PUBLIC_KEY, label);
        expect(Buffer.from(readPublicKey(session, publicKey).publicKeySpki).equals(certificateFacts(row.certificate_pem).spkiDer), `${label}: certificate key = token key`).toBe(true);
      }
    });

    const chain = await openssl(['verify', '-x509_strict', '-CAfile', file('root.pem'), file('intermediate.pem')]);
    expect(chain.stdout.trim(), chain.stderr).toBe(`${file('intermediate.pem')}: OK`);
  });

  it('issues, renews and revokes with the HSM intermediate; openssl verify, crl and ocsp accept what it signed', async () => {
    const certificates = certificatesAs(overHttp(server!.baseUrl), team.requester);
    const rootPem = file('root.pem');
    const intermediatePem = file('intermediate.pem');
    const verify = (leaf: string) => openssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', rootPem, '-untrusted', intermediatePem, leaf]);

    // Issue.
    const { id } = await certificates.create({ team: team.teamName, commonName: 'hsm.example.test', dnsNames: ['hsm.example.test'], validity: 'P7D', destinations: [] });
    const first = await timed('issue', () => certificates.waitFor<View>(id, (view) => view.state === 'active' && view.currentVersion !== null, { timeoutMs: 60_000, what: 'issuance' }));
    expect(first.currentVersion!.issuerId).toBe(intermediateId);
    const firstLeaf = await downloadLeaf(id, 'leaf-1');
    const verified = await verify(firstLeaf);
    expect(verified.stdout.trim(), verified.stderr).toBe(`${firstLeaf}: OK`);

    // Renew.
    await certificates.renew(id, 'pkcs11 platform test');
    const second = await timed('renew', () =>
      certificates.waitFor<View>(id, (view) => view.state === 'active' && (view.currentVersion?.generation ?? 0) >= 2, { timeoutMs: 60_000, what: 'renewal' }),
    );
    expect(second.currentVersion!.serial).not.toBe(first.currentVersion!.serial);
    const secondLeaf = await downloadLeaf(id, 'leaf-2');
    expect((await verify(secondLeaf)).stdout.trim()).toBe(`${secondLeaf}: OK`);
    const serial = second.currentVersion!.serial;

    // Revoke: the revocation publishes the CRL and the OCSP responses at once, signed in the token.
    await timed('revoke (incl. CRL + OCSP publication)', () => revokeAndWait(overHttp(server!.baseUrl), id, team.requester, 'keyCompromise'));

    const crl = await downloadCrl(intermediateId, 'intermediate-crl');
    const crlCheck = await openssl(['crl', '-inform', 'DER', '-in', crl, '-CAfile', intermediatePem, '-noout']);
    expect(crlCheck.stderr.trim()).toBe('verify OK');
    const crlText = await openssl(['crl', '-inform', 'DER', '-in', crl, '-noout', '-text']);
    expect(crlText.stdout.toLowerCase()).toContain(`serial number: ${serial}`);
    await writeFile(file('intermediate-crl.pem'), derToPem(await readFile(crl), 'X509 CRL'));
    const revokedByCrl = await openssl(['verify', '-crl_check', '-CRLfile', file('intermediate-crl.pem'), '-CAfile', rootPem, '-untrusted', intermediatePem, secondLeaf]);
    expect(revokedByCrl.stdout + revokedByCrl.stderr).toContain('certificate revoked');
    // The root's CRL, signed by the root key in the token.
    const rootCrl = await downloadCrl(rootId, 'root-crl');
    expect((await openssl(['crl', '-inform', 'DER', '-in', rootCrl, '-CAfile', rootPem, '-noout'])).stderr.trim()).toBe('verify OK');

    const ocsp = await openssl(['ocsp', '-issuer', intermediatePem, '-cert', secondLeaf, '-url', `${server!.baseUrl}/pki/ocsp`, '-CAfile', file('chain.pem'), '-no_nonce']);
    expect(ocsp.stderr).toContain('Response verify OK');
    expect(ocsp.stdout).toContain(`${secondLeaf}: revoked`);
    expect(ocsp.stdout).toContain('Reason: keyCompromise');
    // The root answers for the intermediate, signed in the token too.
    const rootOcsp = await openssl(['ocsp', '-issuer', rootPem, '-cert', intermediatePem, '-url', `${server!.baseUrl}/pki/ocsp`, '-CAfile', rootPem, '-no_nonce']);
    expect(rootOcsp.stderr).toContain('Response verify OK');
    expect(rootOcsp.stdout).toContain(`${intermediatePem}: good`);
  });

  it('the compromise drill creates the successor intermediate inside the token; the reissued leaf verifies under it', async () => {
    const certificates = certificatesAs(overHttp(server!.baseUrl), team.requester);
    const { id } = await certificates.create({ team: team.teamName, commonName: 'drill.example.test', dnsNames: ['drill.example.test'], validity: 'P7D', destinations: [] });
    await certificates.waitFor<View>(id, (view) => view.state === 'active' && view.currentVersion !== null, { timeoutMs: 60_000, what: 'issuance' });

    const started = await http(`/v1/issuers/${intermediateId}/compromise`, {
      method: 'POST',
      headers: authHeaders(TEST_BOOTSTRAP_TOKEN),
      body: JSON.stringify({ reason: 'pkcs11 platform drill', maxConcurrent: 2, maxPerSecond: 20 }),
    });
    expect(started.status, await started.clone().text()).toBe(202);
    const done = await timed('compromise drill', () =>
      eventually(async () => {
        const body = (await (await http(`/v1/issuers/${intermediateId}/compromise`, { headers: authHeaders(TEST_BOOTSTRAP_TOKEN, false) })).json()) as { state: string; report: CompromiseReport | null; error?: string };
        if (body.state === 'failed') throw new Error(`the drill failed: ${body.error}`);
        return body.state === 'completed' ? body : undefined;
      }, { timeoutMs: 150_000, intervalMs: 500, what: 'the drill to complete' }),
    );
    const successorId = done.report!.successorId;
    const successor = (await issuerRows()).find((row) => row.id === successorId)!;
    expect(successor.sealed_private_key).toBeNull();
    expect(successor).toMatchObject({ key_backend: 'pkcs11', key_ref: pkcs11KeyLabel(successorId), parent_id: rootId });
    expect(await issuerCreatedDetails(successorId)).toMatchObject({ kind: 'intermediate', parentId: rootId, keyBackend: 'pkcs11', keyRef: pkcs11KeyLabel(successorId) });
    await tokenSession((session) => {
      const privateKey = session.findObject(session.pkcs11.CKO_PRIVATE_KEY, pkcs11KeyLabel(successorId));
      expect(readKeyProtection(session, privateKey)).toEqual({ extractable: false, sensitive: true, neverExtractable: true, alwaysSensitive: true });
    });

    const reissued = await certificates.waitFor<View>(id, (view) => view.state === 'active' && view.currentVersion?.issuerId === successorId, { timeoutMs: 60_000, what: 'the reissue under the successor' });
    expect(reissued.currentVersion!.issuerId).toBe(successorId);
    const successorPem = await downloadIssuer(successorId, 'successor');
    const leaf = await downloadLeaf(id, 'drill-leaf');
    const verified = await openssl(['verify', '-x509_strict', '-CAfile', file('root.pem'), '-untrusted', successorPem, leaf]);
    expect(verified.stdout.trim(), verified.stderr).toBe(`${leaf}: OK`);
  });
});
