/**
 * The statement a kid-signed request spends its nonce with (db/acme-nonces.ts spendNonceOfAccount),
 * against real Postgres: it reads the account (and its team) as it is now, spends the nonce once, and
 * spends nothing for an account that was deactivated or changed its key since the API last read it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAccount, updateAccount } from '../../db/acme-accounts.js';
import { spendNonce, spendNonceOfAccount } from '../../db/acme-nonces.js';
import { insertTeam } from '../../db/teams.js';
import { createHarness, type Harness } from '../support/harness.js';

describe('spending an ACME nonce with the account it is signed by', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await createHarness('acme-nonce-spend', { bootstrapCa: false });
  });
  afterAll(async () => {
    await harness?.close();
  });

  const nonce = () => randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + 3_600_000);
  async function account() {
    const team = (await insertTeam(harness.db, `nonce-spend-${randomBytes(4).toString('hex')}`, { keyAlgorithms: ['ecdsa-p256'] } as never))!;
    const thumbprint = randomBytes(32).toString('base64url');
    const { row } = await insertAccount(harness.db, { teamId: team.id, eabKeyId: null, jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }, thumbprint, contact: ['mailto:a@example.test'] });
    return { row, team };
  }

  it('answers the account and its team and spends the nonce once', async () => {
    const { row, team } = await account();
    const value = nonce();
    const first = await spendNonceOfAccount(harness.db, { nonce: value, expiresAt, accountId: row.id, thumbprint: row.thumbprint, now: new Date() });
    expect(first.spent).toBe(true);
    expect(first.account).toEqual(expect.objectContaining({ id: row.id, teamId: team.id, status: 'valid', thumbprint: row.thumbprint, contact: row.contact, jwk: row.jwk }));
    expect(first.account!.createdAt.getTime()).toBeCloseTo(row.createdAt.getTime(), -1);
    expect(first.team).toEqual(expect.objectContaining({ id: team.id, name: team.name, policy: team.policy }));
    const replay = await spendNonceOfAccount(harness.db, { nonce: value, expiresAt, accountId: row.id, thumbprint: row.thumbprint, now: new Date() });
    expect(replay).toEqual(expect.objectContaining({ spent: false }));
    expect(replay.account?.status).toBe('valid');
  });

  it('spends nothing for a deactivated account, a changed key or no account', async () => {
    const { row } = await account();
    const changedKey = nonce();
    await updateAccount(harness.db, row.id, { thumbprint: randomBytes(32).toString('base64url') }, new Date());
    const stale = await spendNonceOfAccount(harness.db, { nonce: changedKey, expiresAt, accountId: row.id, thumbprint: row.thumbprint, now: new Date() });
    expect(stale.spent).toBe(false);
    expect(await spendNonce(harness.db, changedKey, expiresAt, new Date())).toBe(true);

    const deactivated = nonce();
    const current = await spendNonceOfAccount(harness.db, { nonce: nonce(), expiresAt, accountId: row.id, thumbprint: stale.account!.thumbprint, now: new Date() });
    expect(current.spent).toBe(true);
    await updateAccount(harness.db, row.id, { status: 'deactivated' }, new Date());
    const refused = await spendNonceOfAccount(harness.db, { nonce: deactivated, expiresAt, accountId: row.id, thumbprint: stale.account!.thumbprint, now: new Date() });
    expect(refused).toEqual(expect.objectContaining({ spent: false }));
    expect(refused.account?.status).toBe('deactivated');
    expect(await spendNonce(harness.db, deactivated, expiresAt, new Date())).toBe(true);

    const missing = await spendNonceOfAccount(harness.db, { nonce: nonce(), expiresAt, accountId: 'acct_aaaaaaaaaaaaaaaaaaaa', thumbprint: 'none', now: new Date() });
    expect(missing).toEqual({ account: null, team: null, spent: false });
  });
});
