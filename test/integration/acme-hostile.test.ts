/**
 * Hostile ACME requests: each gets the RFC 8555 error a client can act on, never a 5xx, and changes
 * nothing (no account, order or challenge moves). Sent with test/support/acme-jws.ts, which signs
 * whatever it is given.
 */
import { randomBytes } from 'node:crypto';
import { count, eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { acmeRoot } from '../../api/acme/app.js';
import type { AcmeDeps } from '../../api/acme/context.js';
import { EabSecret } from '../../api/acme/eab.js';
import { createApp } from '../../api/app.js';
import { acmeAccounts, acmeChallenges, acmeOrders } from '../../db/schema.js';
import { externalAccountBinding, hmacSignature, newAcmeKey, rawJws, signJws, type AcmeKey } from '../support/acme-jws.js';
import { authHeaders, TEST_BOOTSTRAP_TOKEN } from '../support/harness.js';
import { useIntegrationSuite } from '../support/integration-suite.js';

const ORIGIN = 'https://acme.certflow.test';
const suite = useIntegrationSuite('acme-hostile', { team: { policy: { allowedDomains: ['hostile.example.test'] } } });

let deps: AcmeDeps;
let acme: ReturnType<typeof acmeRoot>;
let rest: ReturnType<typeof createApp>;

interface Problem {
  type: string;
  detail: string;
  status: number;
}

async function nonce(): Promise<string> {
  const response = await acme.request(`${ORIGIN}/acme/new-nonce`, { method: 'HEAD' });
  return response.headers.get('replay-nonce')!;
}

function send(path: string, body: unknown, contentType = 'application/jose+json'): Promise<Response> {
  return Promise.resolve(acme.request(`${ORIGIN}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) }));
}

/** A correctly signed request, by jwk or by an account's kid. */
async function post(path: string, key: AcmeKey, payload: unknown, by: { kid: string } | 'jwk'): Promise<Response> {
  const header = { nonce: await nonce(), url: `${ORIGIN}${path}`, ...(by === 'jwk' ? { jwk: key.jwk } : { kid: by.kid }) };
  return send(path, await signJws(key, header, payload));
}

async function eabKey(): Promise<{ keyId: string; hmacKey: string }> {
  const response = await rest.request(`/v1/teams/${suite.team.teamId}/acme-eab-keys`, { method: 'POST', headers: authHeaders(suite.team.admin) });
  expect(response.status).toBe(201);
  return (await response.json()) as { keyId: string; hmacKey: string };
}

async function register(key: AcmeKey): Promise<string> {
  const eab = await eabKey();
  const response = await post('/acme/new-account', key, { termsOfServiceAgreed: true, externalAccountBinding: externalAccountBinding(key, eab, `${ORIGIN}/acme/new-account`) }, 'jwk');
  expect(response.status, await response.clone().text()).toBe(201);
  return response.headers.get('location')!;
}

async function expectProblem(response: Response, status: number, type: string): Promise<Problem> {
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const problem = (await response.json()) as Problem;
  expect({ status: response.status, type: problem.type }, problem.detail).toEqual({ status, type: `urn:ietf:params:acme:error:${type}` });
  expect(response.headers.get('replay-nonce'), 'every answer carries a fresh nonce').toMatch(/^[A-Za-z0-9_-]{43}$/);
  return problem;
}

async function stateSnapshot() {
  const db = suite.harness.db;
  const [accounts] = await db.select({ n: count() }).from(acmeAccounts);
  const [orders] = await db.select({ n: count() }).from(acmeOrders);
  const challenges = await db.select({ id: acmeChallenges.id, status: acmeChallenges.status }).from(acmeChallenges);
  return { accounts: accounts!.n, orders: orders!.n, challenges };
}

let alice: AcmeKey;
let aliceUrl: string;
let mallory: AcmeKey;
let malloryUrl: string;
let aliceOrder: { url: string; authorizations: string[] };
let aliceChallengeUrl: string;

beforeAll(async () => {
  deps = { ...suite.harness.apiDeps, reservedNames: ['acme.hostile.example.test'], acme: { eabSecret: EabSecret.fromBytes(randomBytes(32)), allowUnboundAccounts: false, validitySeconds: 86_400 } };
  acme = acmeRoot(deps, (message, error) => console.error(message, error));
  rest = createApp(deps);
  alice = await newAcmeKey('ES256');
  aliceUrl = await register(alice);
  mallory = await newAcmeKey('EdDSA');
  malloryUrl = await register(mallory);
  const created = await post('/acme/new-order', alice, { identifiers: [{ type: 'dns', value: 'www.hostile.example.test' }] }, { kid: aliceUrl });
  expect(created.status).toBe(201);
  aliceOrder = { url: created.headers.get('location')!, authorizations: ((await created.json()) as { authorizations: string[] }).authorizations };
  const authorization = await post(new URL(aliceOrder.authorizations[0]!).pathname, alice, '', { kid: aliceUrl });
  aliceChallengeUrl = ((await authorization.json()) as { challenges: { url: string }[] }).challenges[0]!.url;
});

describe('hostile ACME requests', () => {
  it('refuses alg "none", HS256 on an account, and an alg that does not match the key', async () => {
    const before = await stateSnapshot();
    const url = `${ORIGIN}/acme/new-order`;
    const payload = { identifiers: [{ type: 'dns', value: 'x.hostile.example.test' }] };
    await expectProblem(await send('/acme/new-order', rawJws({ alg: 'none', nonce: await nonce(), url, kid: aliceUrl }, payload, () => '')), 400, 'badSignatureAlgorithm');
    await expectProblem(await send('/acme/new-order', rawJws({ alg: 'HS256', nonce: await nonce(), url, kid: aliceUrl }, payload, hmacSignature(randomBytes(32)))), 400, 'badSignatureAlgorithm');
    const mismatched = await signJws(alice, { nonce: await nonce(), url, kid: aliceUrl }, payload);
    const header = JSON.parse(Buffer.from(mismatched.protected!, 'base64url').toString()) as Record<string, unknown>;
    await expectProblem(await send('/acme/new-order', rawJws({ ...header, alg: 'ES384' }, payload, () => mismatched.signature!)), 400, 'badSignatureAlgorithm');
    const newAccount = `${ORIGIN}/acme/new-account`;
    const problem = await expectProblem(await send('/acme/new-account', rawJws({ alg: 'RS256', nonce: await nonce(), url: newAccount, jwk: alice.jwk }, {}, () => 'AAAA')), 400, 'badSignatureAlgorithm');
    expect(problem.detail).toContain('RS256');
    expect(await stateSnapshot()).toEqual(before);
  });

  it('refuses a replayed nonce with badNonce and a fresh Replay-Nonce, and a nonce it never issued', async () => {
    const path = new URL(aliceUrl).pathname;
    const jws = await signJws(alice, { nonce: await nonce(), url: aliceUrl, kid: aliceUrl }, '');
    expect((await send(path, jws)).status).toBe(200);
    await expectProblem(await send(path, jws), 400, 'badNonce');
    await expectProblem(await send(path, await signJws(alice, { nonce: randomBytes(16).toString('base64url'), url: aliceUrl, kid: aliceUrl }, '')), 400, 'badNonce');
    // Nonces are MACed (api/acme/nonces.ts): one of the right shape that Certflow did not make is refused too,
    // and so is another spelling of a spent one (the last character's unused bits).
    await expectProblem(await send(path, await signJws(alice, { nonce: randomBytes(32).toString('base64url'), url: aliceUrl, kid: aliceUrl }, '')), 400, 'badNonce');
    const spent = JSON.parse(Buffer.from(jws['protected']!, 'base64url').toString()) as { nonce: string };
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = `${spent.nonce.slice(0, -1)}${alphabet[alphabet.indexOf(spent.nonce.at(-1)!) ^ 1]}`;
    await expectProblem(await send(path, await signJws(alice, { nonce: respelled, url: aliceUrl, kid: aliceUrl }, '')), 400, 'badNonce');
  });

  it('refuses a JWS signed for another URL, with both jwk and kid, or with a changed payload', async () => {
    const before = await stateSnapshot();
    const path = new URL(aliceOrder.url).pathname;
    await expectProblem(await send(path, await signJws(alice, { nonce: await nonce(), url: `${ORIGIN}/acme/new-order`, kid: aliceUrl }, '')), 403, 'unauthorized');
    await expectProblem(await send(path, await signJws(alice, { nonce: await nonce(), url: aliceOrder.url, kid: aliceUrl, jwk: alice.jwk }, '')), 400, 'malformed');
    const signed = await signJws(alice, { nonce: await nonce(), url: `${ORIGIN}/acme/new-order`, kid: aliceUrl }, { identifiers: [{ type: 'dns', value: 'a.hostile.example.test' }] });
    const tampered = { ...signed, payload: Buffer.from(JSON.stringify({ identifiers: [{ type: 'dns', value: 'b.hostile.example.test' }] })).toString('base64url') };
    await expectProblem(await send('/acme/new-order', tampered), 400, 'malformed');
    await expectProblem(await send('/acme/new-order', await signJws(alice, { nonce: await nonce(), url: `${ORIGIN}/acme/new-order`, kid: `${ORIGIN}/acme/acct/acct_aaaaaaaaaaaaaaaaaaaa` }, {})), 400, 'accountDoesNotExist');
    expect(await stateSnapshot()).toEqual(before);
  });

  it("keeps another account away from an account's order, authorization and challenge", async () => {
    const before = await stateSnapshot();
    await expectProblem(await post(new URL(aliceOrder.url).pathname, mallory, '', { kid: malloryUrl }), 404, 'malformed');
    await expectProblem(await post(`${new URL(aliceOrder.url).pathname}/finalize`, mallory, { csr: 'AAAA' }, { kid: malloryUrl }), 404, 'malformed');
    await expectProblem(await post(new URL(aliceOrder.authorizations[0]!).pathname, mallory, { status: 'deactivated' }, { kid: malloryUrl }), 404, 'malformed');
    await expectProblem(await post(new URL(aliceChallengeUrl).pathname, mallory, {}, { kid: malloryUrl }), 404, 'malformed');
    await expectProblem(await post(new URL(aliceUrl).pathname, mallory, { status: 'deactivated' }, { kid: malloryUrl }), 403, 'unauthorized');
    expect(await stateSnapshot()).toEqual(before);
  });

  it('refuses a bad EAB MAC, an EAB of a revoked key, and no EAB at all, creating no account', async () => {
    const before = await stateSnapshot();
    const key = await newAcmeKey('ES384');
    const url = `${ORIGIN}/acme/new-account`;
    const eab = await eabKey();
    const forged = externalAccountBinding(key, { keyId: eab.keyId, hmacKey: randomBytes(32).toString('base64url') }, url);
    await expectProblem(await post('/acme/new-account', key, { externalAccountBinding: forged }, 'jwk'), 403, 'unauthorized');
    const revoked = await eabKey();
    const revoke = await rest.request(`/v1/teams/${suite.team.teamId}/acme-eab-keys/${revoked.keyId}`, { method: 'DELETE', headers: authHeaders(suite.team.admin) });
    expect(revoke.status).toBe(200);
    await expectProblem(await post('/acme/new-account', key, { externalAccountBinding: externalAccountBinding(key, revoked, url) }, 'jwk'), 403, 'unauthorized');
    // A binding over another key than the one signing the request.
    await expectProblem(await post('/acme/new-account', key, { externalAccountBinding: externalAccountBinding(alice, eab, url) }, 'jwk'), 400, 'malformed');
    await expectProblem(await post('/acme/new-account', key, { termsOfServiceAgreed: true }, 'jwk'), 400, 'externalAccountRequired');
    expect(await stateSnapshot()).toEqual(before);
  });

  it('refuses an oversized body, a wrong content type and a body that is not a JWS', async () => {
    const before = await stateSnapshot();
    const big = await signJws(alice, { nonce: await nonce(), url: `${ORIGIN}/acme/new-order`, kid: aliceUrl }, { identifiers: [{ type: 'dns', value: 'x'.repeat(70_000) }] });
    await expectProblem(await send('/acme/new-order', big), 413, 'malformed');
    const small = await signJws(alice, { nonce: await nonce(), url: `${ORIGIN}/acme/new-order`, kid: aliceUrl }, { identifiers: [{ type: 'dns', value: 'w.hostile.example.test' }] });
    await expectProblem(await send('/acme/new-order', small, 'application/json'), 415, 'malformed');
    await expectProblem(await send('/acme/new-order', '{"protected":'), 400, 'malformed');
    await expectProblem(await send('/acme/new-order', { signatures: [] }), 400, 'malformed');
    expect(await stateSnapshot()).toEqual(before);
  });

  it('refuses an order for a name outside the team policy with rejectedIdentifier naming it', async () => {
    const before = await stateSnapshot();
    const response = await post('/acme/new-order', alice, { identifiers: [{ type: 'dns', value: 'www.hostile.example.test' }, { type: 'dns', value: 'admin.payments.example.test' }] }, { kid: aliceUrl });
    const problem = (await expectProblem(response, 400, 'rejectedIdentifier')) as Problem & { subproblems: { identifier: { value: string } }[] };
    expect(problem.subproblems.map((subproblem) => subproblem.identifier.value)).toEqual(['admin.payments.example.test']);
    expect(await stateSnapshot()).toEqual(before);
  });

  it('stops a deactivated account', async () => {
    const key = await newAcmeKey('RS256');
    const url = await register(key);
    expect((await post(new URL(url).pathname, key, { status: 'deactivated' }, { kid: url })).status).toBe(200);
    await expectProblem(await post('/acme/new-order', key, { identifiers: [{ type: 'dns', value: 'z.hostile.example.test' }] }, { kid: url }), 403, 'unauthorized');
    const [row] = await suite.harness.db.select().from(acmeAccounts).where(eq(acmeAccounts.id, url.split('/').pop()!));
    expect(row!.status).toBe('deactivated');
  });

  it('cuts off the accounts an EAB key bound when the key is revoked (it may have leaked)', async () => {
    const key = await newAcmeKey('ES256');
    const eab = await eabKey();
    const registered = await post('/acme/new-account', key, { externalAccountBinding: externalAccountBinding(key, eab, `${ORIGIN}/acme/new-account`) }, 'jwk');
    expect(registered.status).toBe(201);
    const url = registered.headers.get('location')!;
    const revoke = await rest.request(`/v1/teams/${suite.team.teamId}/acme-eab-keys/${eab.keyId}`, { method: 'DELETE', headers: authHeaders(suite.team.admin) });
    expect(revoke.status).toBe(200);
    await expectProblem(await post('/acme/new-order', key, { identifiers: [{ type: 'dns', value: 'y.hostile.example.test' }] }, { kid: url }), 403, 'unauthorized');
    const [row] = await suite.harness.db.select().from(acmeAccounts).where(eq(acmeAccounts.id, url.split('/').pop()!));
    expect(row!.status).toBe('revoked');
  });

  it("limits a team's accounts together to the platform's request rate, with Retry-After", async () => {
    const limited = acmeRoot({ ...deps, rateLimit: { perSecond: 0.5, burst: 3 } }, (message, error) => console.error(message, error));
    const path = new URL(aliceUrl).pathname;
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      const jws = await signJws(alice, { nonce: await nonce(), url: aliceUrl, kid: aliceUrl }, '');
      last = await limited.request(`${ORIGIN}${path}`, { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: JSON.stringify(jws) });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    await expectProblem(last!, 429, 'rateLimited');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('answers malformed, not 500, to undecodable base64url and a keyChange whose inner payload is not an object', async () => {
    const throwaway = await newAcmeKey('ES256');
    await expectProblem(await post('/acme/revoke-cert', throwaway, { certificate: 'AAAAA' }, 'jwk'), 400, 'malformed');
    const newKey = await newAcmeKey('ES256');
    for (const innerPayload of ['not json', 'null', '']) {
      const inner = await signJws(newKey, { url: `${ORIGIN}/acme/key-change`, jwk: newKey.jwk }, innerPayload);
      await expectProblem(await post('/acme/key-change', alice, inner, { kid: aliceUrl }), 400, 'malformed');
    }
  });

  it("refuses the platform's own names to a team whose zones cover them, and the platform team's name", async () => {
    const before = await stateSnapshot();
    await expectProblem(await post('/acme/new-order', alice, { identifiers: [{ type: 'dns', value: 'acme.hostile.example.test' }] }, { kid: aliceUrl }), 400, 'rejectedIdentifier');
    expect(await stateSnapshot()).toEqual(before);
    const team = await rest.request('/v1/teams', { method: 'POST', headers: authHeaders(TEST_BOOTSTRAP_TOKEN), body: JSON.stringify({ name: 'certflow-platform' }) });
    expect(team.status).toBe(409);
  });

  it('never leaves a valid account bound to a revoked EAB key, however newAccount and the revocation race', async () => {
    for (let round = 0; round < 12; round++) {
      const key = await newAcmeKey('ES256');
      const eab = await eabKey();
      const header = { nonce: await nonce(), url: `${ORIGIN}/acme/new-account`, jwk: key.jwk };
      const jws = await signJws(key, header, { externalAccountBinding: externalAccountBinding(key, eab, `${ORIGIN}/acme/new-account`) });
      await Promise.all([
        send('/acme/new-account', jws),
        new Promise((resolve) => setTimeout(resolve, round % 4)).then(() => rest.request(`/v1/teams/${suite.team.teamId}/acme-eab-keys/${eab.keyId}`, { method: 'DELETE', headers: authHeaders(suite.team.admin) })),
      ]);
      const bound = await suite.harness.db.select().from(acmeAccounts).where(eq(acmeAccounts.eabKeyId, eab.keyId));
      expect(bound.filter((account) => account.status === 'valid'), `round ${round}`).toEqual([]);
    }
  });

  it("does not let a replayed request spend the team's rate limit", async () => {
    const limited = acmeRoot({ ...deps, rateLimit: { perSecond: 0.01, burst: 2 } }, (message, error) => console.error(message, error));
    const path = new URL(aliceUrl).pathname;
    const request = async (jws: Record<string, string>) =>
      limited.request(`${ORIGIN}${path}`, { method: 'POST', headers: { 'content-type': 'application/jose+json' }, body: JSON.stringify(jws) });
    const used = await signJws(alice, { nonce: await nonce(), url: aliceUrl, kid: aliceUrl }, '');
    expect((await request(used)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await request(used)).status).toBe(400);
    expect((await request(await signJws(alice, { nonce: await nonce(), url: aliceUrl, kid: aliceUrl }, ''))).status).toBe(200);
  });
});
