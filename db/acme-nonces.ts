/**
 * Spent ACME nonces (api/acme/nonces.ts mints them without storing anything): a nonce is recorded
 * when a request spends it, until it expires, so a replay is refused by every API replica. Expired
 * rows are purged as new ones are written.
 */
import { lt, sql } from 'drizzle-orm';
import type { AcmeAccountRow } from './acme-accounts.js';
import type { TeamRow } from './teams.js';
import type { Queryable } from './database.js';
import { acmeNonces } from './schema.js';

/** One purge per this many spent nonces (per replica), enough to keep the table at about an hour's worth. */
const PURGE_EVERY = 1_000;
let spentSincePurge = 0;

/** Records the nonce as spent: true the first time, false for a replay. */
export async function spendNonce(db: Queryable, nonce: string, expiresAt: Date, now: Date): Promise<boolean> {
  const inserted = await db.insert(acmeNonces).values({ nonce, expiresAt }).onConflictDoNothing().returning({ nonce: acmeNonces.nonce });
  await purgeNowAndThen(db, now);
  return inserted.length === 1;
}

/**
 * A kid-signed request's account and its nonce in one statement: reads the account and spends the
 * nonce only if the account is still valid with the key (thumbprint) the request was verified with,
 * so a deactivated account or a changed key spends nothing. `account` is null for no such account;
 * `spent` is false for a replay or when the account no longer matches (the caller looks again).
 * The account's team comes along: most signed requests need its policy.
 */
export async function spendNonceOfAccount(
  db: Queryable,
  input: { nonce: string; expiresAt: Date; accountId: string; thumbprint: string; now: Date },
): Promise<{ account: AcmeAccountRow | null; team: TeamRow | null; spent: boolean }> {
  const result = await db.execute<AccountColumns & TeamColumns & { spent: number }>(sql`
    with account as (select * from acme_accounts where id = ${input.accountId}),
    spent as (
      insert into acme_nonces (nonce, expires_at)
      select ${input.nonce}, ${input.expiresAt.toISOString()}::timestamptz from account where account.status = 'valid' and account.thumbprint = ${input.thumbprint}
      on conflict do nothing
      returning nonce
    )
    select account.id, account.team_id, account.eab_key_id, account.jwk, account.thumbprint, account.contact, account.status,
      extract(epoch from account.created_at)::float8 * 1000 as created_at, extract(epoch from account.updated_at)::float8 * 1000 as updated_at,
      team.name as team_name, team.policy as team_policy, extract(epoch from team.created_at)::float8 * 1000 as team_created_at,
      (select count(*) from spent)::int as spent
    from account left join teams team on team.id = account.team_id`);
  const row = result.rows[0];
  if (row?.spent) await purgeNowAndThen(db, input.now);
  const team = row?.team_id && row.team_name !== null ? { id: row.team_id, name: row.team_name, policy: row.team_policy!, createdAt: new Date(row.team_created_at!) } : null;
  return { account: row ? accountRow(row) : null, team, spent: row?.spent === 1 };
}

async function purgeNowAndThen(db: Queryable, now: Date): Promise<void> {
  if (++spentSincePurge < PURGE_EVERY) return;
  spentSincePurge = 0;
  await db.delete(acmeNonces).where(lt(acmeNonces.expiresAt, now));
}

type AccountColumns = {
  id: string;
  team_id: string | null;
  eab_key_id: string | null;
  jwk: Record<string, string>;
  thumbprint: string;
  contact: string[];
  status: AcmeAccountRow['status'];
  /** Epoch milliseconds (the raw statement gets no timestamp parsing). */
  created_at: number;
  updated_at: number;
};

type TeamColumns = {
  team_name: string | null;
  team_policy: TeamRow['policy'] | null;
  team_created_at: number | null;
};

function accountRow(row: AccountColumns): AcmeAccountRow {
  return {
    id: row.id,
    teamId: row.team_id,
    eabKeyId: row.eab_key_id,
    jwk: row.jwk,
    thumbprint: row.thumbprint,
    contact: row.contact,
    status: row.status,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
