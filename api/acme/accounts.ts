/**
 * ACME accounts (RFC 8555 §7.3): newAccount (with external account binding and
 * onlyReturnExisting), reading, updating contacts and deactivating an account, and keyChange.
 */
import type { Context } from 'hono';
import type { JWK } from 'jose';
import { appendAuditEvent } from '../../db/audit.js';
import { findAccountByThumbprint, findEabKey, insertAccount, lockUsableEabKey, touchEabKey, updateAccount, type AcmeAccountRow } from '../../db/acme-accounts.js';
import { objectPayload, verifyAcmeRequest, type AcmeDeps, type AcmeRequest } from './context.js';
import { verifyExternalAccountBinding } from './eab.js';
import { jwkThumbprint, parseJws, payloadJson, publicAccountJwk, verifyJwsSignature } from './jws.js';
import { AcmeProblem } from './problem.js';
import { isUniqueViolation } from './replacement.js';
import { accountView } from './views.js';

const MAX_CONTACTS = 10;
const EMAIL = /^[^@\s,;<>"]{1,64}@[A-Za-z0-9.-]{1,253}$/;

export async function newAccount(c: Context, deps: AcmeDeps): Promise<Response> {
  const request = await verifyAcmeRequest(c, deps, 'jwk');
  const payload = objectPayload(request);
  const thumbprint = await jwkThumbprint(request.jwk);
  const existing = await findAccountByThumbprint(deps.db, thumbprint);
  if (existing) {
    if (existing.status !== 'valid') throw new AcmeProblem('unauthorized', `the account of this key is ${existing.status}`);
    return c.json(accountView(existing, request.urls), 200, { Location: request.urls.account(existing.id) });
  }
  if (payload['onlyReturnExisting'] === true) throw new AcmeProblem('accountDoesNotExist', 'no account exists for this key');
  const contact = checkContacts(payload['contact']);
  const binding = payload['externalAccountBinding'];
  let teamId: string | null = null;
  let eabKeyId: string | null = null;
  if (binding !== undefined) {
    eabKeyId = await verifyExternalAccountBinding(binding, {
      accountJwk: request.jwk,
      url: request.header.url,
      secret: deps.acme.eabSecret,
      isUsable: async (keyId) => {
        const key = await findEabKey(deps.db, keyId);
        return key !== null && key.revokedAt === null;
      },
    });
    teamId = (await findEabKey(deps.db, eabKeyId))!.teamId;
  } else if (!deps.acme.allowUnboundAccounts) {
    throw new AcmeProblem('externalAccountRequired', 'this CA requires external account binding: ask your team admin for a key (POST /v1/teams/:id/acme-eab-keys)');
  }
  // The key is locked while the account is made: a revocation (db/acme-accounts.ts revokeEabKey) either
  // comes first and this refuses, or waits and revokes the account along with the key.
  const { row, created } = await deps.db.transaction(async (tx) => {
    if (eabKeyId && !(await lockUsableEabKey(tx, eabKeyId))) throw new AcmeProblem('unauthorized', 'the external account binding key is unknown, revoked or its MAC is wrong');
    return insertAccount(tx, { teamId, eabKeyId, jwk: request.jwk as Record<string, string>, thumbprint, contact });
  });
  if (created) {
    const eabKey = eabKeyId ? await findEabKey(deps.db, eabKeyId) : null;
    if (eabKeyId) await touchEabKey(deps.db, eabKeyId, deps.now());
    await appendAuditEvent(deps.db, {
      at: deps.now(),
      actor: row.id,
      principalId: eabKey?.createdByPrincipal ?? null,
      action: 'acme.account_created',
      teamId,
      details: { accountId: row.id, eabKeyId, thumbprint, contact },
    });
  }
  return c.json(accountView(row, request.urls), created ? 201 : 200, { Location: request.urls.account(row.id) });
}

/** POST to the account URL: read (POST-as-GET), change contacts, or deactivate. */
export async function accountResource(c: Context, deps: AcmeDeps): Promise<Response> {
  const request = await verifyAcmeRequest(c, deps, 'kid');
  const account = ownAccount(request, c.req.param('id')!);
  if (request.payload === null) return c.json(accountView(account, request.urls), 200);
  const payload = objectPayload(request);
  const changes: { contact?: string[]; status?: 'deactivated' } = {};
  if (payload['contact'] !== undefined) changes.contact = checkContacts(payload['contact']);
  if (payload['status'] !== undefined) {
    if (payload['status'] !== 'deactivated') throw new AcmeProblem('malformed', 'an account\'s status can only be changed to "deactivated"');
    changes.status = 'deactivated';
  }
  if (Object.keys(changes).length === 0) return c.json(accountView(account, request.urls), 200);
  const updated = await updateAccount(deps.db, account.id, changes, deps.now());
  if (!updated) throw new AcmeProblem('unauthorized', 'the account is no longer valid');
  await appendAuditEvent(deps.db, {
    at: deps.now(),
    actor: account.id,
    action: changes.status ? 'acme.account_deactivated' : 'acme.account_updated',
    teamId: account.teamId,
    details: { accountId: account.id, ...changes },
  });
  return c.json(accountView(updated, request.urls), 200);
}

/**
 * keyChange (RFC 8555 §7.3.5): the outer JWS is signed by the account's key, the inner one by the
 * new key, over {account, oldKey}. A key that already has an account gets 409 with its Location.
 */
export async function keyChange(c: Context, deps: AcmeDeps): Promise<Response> {
  const request = await verifyAcmeRequest(c, deps, 'kid');
  const account = request.account!;
  const inner = parseInnerJws(request);
  if (!inner.header.jwk) throw new AcmeProblem('malformed', 'the inner JWS of keyChange must carry the new key as "jwk"');
  if (inner.header.url !== request.header.url) throw new AcmeProblem('malformed', 'the inner JWS "url" must equal the outer one');
  const newJwk = publicAccountJwk(inner.header.jwk, inner.header.alg);
  const innerPayload = payloadJson(await verifyJwsSignature(inner.jws, newJwk, inner.header.alg));
  if (typeof innerPayload !== 'object' || innerPayload === null || Array.isArray(innerPayload)) throw new AcmeProblem('malformed', 'the inner payload of keyChange must be {"account", "oldKey"}');
  if ((innerPayload as Record<string, unknown>)['account'] !== request.urls.account(account.id)) throw new AcmeProblem('malformed', 'the inner payload\'s "account" must be this account\'s URL');
  const oldKey = (innerPayload as Record<string, unknown>)['oldKey'];
  if (typeof oldKey !== 'object' || oldKey === null || (await jwkThumbprint(oldKey as JWK).catch(() => '')) !== account.thumbprint) {
    throw new AcmeProblem('malformed', 'the inner payload\'s "oldKey" is not the account\'s current key');
  }
  const thumbprint = await jwkThumbprint(newJwk);
  const holder = await findAccountByThumbprint(deps.db, thumbprint);
  if (holder) {
    return c.json(new AcmeProblem('malformed', 'the new key already belongs to an account', { status: 409 }).toBody(), 409, {
      'Content-Type': 'application/problem+json',
      Location: request.urls.account(holder.id),
    });
  }
  let updated: AcmeAccountRow | null;
  try {
    updated = await updateAccount(deps.db, account.id, { jwk: newJwk as Record<string, string>, thumbprint }, deps.now());
  } catch (error) {
    if (isUniqueViolation(error)) throw new AcmeProblem('malformed', 'the new key already belongs to an account', { status: 409 });
    throw error;
  }
  if (!updated) throw new AcmeProblem('unauthorized', 'the account is no longer valid');
  await appendAuditEvent(deps.db, {
    at: deps.now(),
    actor: account.id,
    action: 'acme.account_key_changed',
    teamId: account.teamId,
    details: { accountId: account.id, oldThumbprint: account.thumbprint, newThumbprint: thumbprint },
  });
  return c.json(accountView(updated, request.urls), 200);
}

/** The orders list (RFC 8555 §7.1.2.1): this implementation keeps it empty rather than unbounded. */
export async function accountOrders(c: Context, deps: AcmeDeps): Promise<Response> {
  const request = await verifyAcmeRequest(c, deps, 'kid');
  ownAccount(request, c.req.param('id')!);
  return c.json({ orders: [] }, 200);
}

function ownAccount(request: AcmeRequest, id: string): AcmeAccountRow {
  const account = request.account!;
  if (account.id !== id) throw new AcmeProblem('unauthorized', 'an account can only read or change itself');
  return account;
}

function parseInnerJws(request: AcmeRequest) {
  try {
    return parseJws(JSON.stringify(request.payload), { inner: true });
  } catch (error) {
    if (error instanceof AcmeProblem) throw new AcmeProblem('malformed', `the inner JWS of keyChange: ${error.message}`);
    throw error;
  }
}

function checkContacts(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== 'string')) throw new AcmeProblem('malformed', '"contact" must be an array of URLs');
  if (value.length > MAX_CONTACTS) throw new AcmeProblem('invalidContact', `at most ${MAX_CONTACTS} contacts are accepted`);
  return (value as string[]).map((contact) => {
    if (!contact.toLowerCase().startsWith('mailto:')) throw new AcmeProblem('unsupportedContact', `only mailto: contacts are supported, not ${JSON.stringify(contact.slice(0, 100))}`);
    const address = contact.slice('mailto:'.length);
    if (!EMAIL.test(address) || address.includes('?')) throw new AcmeProblem('invalidContact', `${JSON.stringify(contact.slice(0, 100))} is not a single e-mail address`);
    return `mailto:${address}`;
  });
}
