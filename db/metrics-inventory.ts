/**
 * The inventory figures Prometheus gauges are built from (metrics/inventory.ts), each one aggregate query:
 * counts and extremes grouped by team name, state and issuer, never a row per certificate.
 */
import { sql } from 'drizzle-orm';
import type { Database } from './database.js';

/** States of certificates that are no longer served or renewed: left out of the expiry figures. */
const ENDED_STATES = ['revoking', 'revoked', 'rejected', 'approval_expired'];

/** Upper bounds (seconds) of the seconds-to-expiry histogram's buckets. */
export const EXPIRY_BUCKETS_SECONDS = [3_600, 86_400, 3 * 86_400, 7 * 86_400, 14 * 86_400, 30 * 86_400, 60 * 86_400, 90 * 86_400, 180 * 86_400, 365 * 86_400];

/** Expiring "without renewal": within 7 days, or within a quarter of its lifetime when that is shorter (renewal is due with a third left). */
export const EXPIRING_WINDOW_SECONDS = 7 * 86_400;

export interface InventorySnapshot {
  teamNames: string[];
  certificates: Array<{ team: string; state: string; issuer: string; count: number }>;
  /** Current versions of live certificates: the soonest notAfter per team and how many expire without renewal. */
  expiryByTeam: Array<{ team: string; soonestNotAfter: Date; expiringUnrenewed: number }>;
  /** Cumulative counts of live current versions expiring within each bucket (seconds from now), plus sum and count. */
  expiryHistogram: { buckets: Array<{ le: number; count: number }>; sumSeconds: number; count: number };
  approvalsByTeam: Array<{ team: string; pending: number; oldestRequestedAt: Date; pastHalfDeadline: number }>;
  crls: Array<{ issuer: string; thisUpdate: Date; nextUpdate: Date }>;
  bulkOperationsByState: Array<{ state: string; count: number }>;
  /** Unfinished bulk operations (a handful at a time) with their last recorded counts. */
  unfinishedBulkOperations: Array<{ id: string; counts: Record<string, number> }>;
  acmeOrdersByStatus: Array<{ status: string; count: number }>;
}

type Row = Record<string, unknown>;

async function rows<T extends Row>(db: Database, query: ReturnType<typeof sql>): Promise<T[]> {
  return (await db.execute<T>(query)).rows as T[];
}


export async function loadInventorySnapshot(db: Database, now: Date): Promise<InventorySnapshot> {
  const at = now.toISOString();
  const [teams, certificates, expiry, approvals, crls, bulkStates, bulkOpen, acme] = await Promise.all([
    rows<{ name: string }>(db, sql`select name from teams`),
    rows<{ team: string; state: string; issuer: string | null; count: string }>(
      db,
      sql`select t.name as team, c.state, v.issuer_id as issuer, count(*) as count
          from certificates c join teams t on t.id = c.team_id left join certificate_versions v on v.id = c.current_version_id
          group by 1, 2, 3`,
    ),
    // One scan of the live current versions: per team, the soonest expiry, the unrenewed count and the histogram's buckets (summed below).
    rows<Row>(
      db,
      sql.raw(`select t.name as team, min(v.not_after) as soonest,
            count(*) filter (where v.not_after < '${at}'::timestamptz + least(interval '${EXPIRING_WINDOW_SECONDS} seconds', (v.not_after - v.not_before) / 4)) as expiring,
            count(*) as count, coalesce(sum(extract(epoch from v.not_after - '${at}'::timestamptz)), 0) as sum_seconds,
            ${EXPIRY_BUCKETS_SECONDS.map((le, i) => `count(*) filter (where v.not_after <= '${at}'::timestamptz + interval '${le} seconds') as b${i}`).join(', ')}
          from certificates c join teams t on t.id = c.team_id join certificate_versions v on v.id = c.current_version_id
          where c.state not in (${ENDED_STATES.map((state) => `'${state}'`).join(', ')}) and v.status = 'active'
          group by 1`),
    ),
    rows<{ team: string; pending: string; oldest: Date; past_half: string }>(
      db,
      sql`select t.name as team, count(*) as pending, min(a.requested_at) as oldest,
            count(*) filter (where ${at}::timestamptz > a.requested_at + (a.deadline_at - a.requested_at) / 2) as past_half
          from approvals a join teams t on t.id = a.team_id
          where a.state = 'pending'
          group by 1`,
    ),
    // Only issuers that still publish (db/revocation.ts listPublishingIssuers): a revoked or expired issuer's last CRL is not stale, it is final.
    rows<{ issuer: string; this_update: Date; next_update: Date }>(
      db,
      sql`select c.issuer_id as issuer, c.this_update, c.next_update from issuer_crls c join issuers i on i.id = c.issuer_id
          where i.status <> 'revoked' and i.not_after > ${at}::timestamptz`,
    ),
    rows<{ state: string; count: string }>(db, sql`select state, count(*) as count from bulk_operations group by 1`),
    rows<{ id: string; counts: Record<string, number> }>(
      db,
      sql`select id, counts from bulk_operations where state in ('running', 'paused', 'cancelling') order by created_at limit 50`,
    ),
    rows<{ status: string; expired: boolean; count: string }>(
      db,
      sql`select status, (status in ('pending', 'ready') and expires_at <= ${at}::timestamptz) as expired, count(*) as count from acme_orders group by 1, 2`,
    ),
  ]);
  const total = (column: string) => expiry.reduce((sum, row) => sum + Number(row[column] ?? 0), 0);
  return {
    teamNames: teams.map((row) => row.name),
    certificates: certificates.map((row) => ({ team: row.team, state: row.state, issuer: row.issuer ?? 'none', count: Number(row.count) })),
    expiryByTeam: expiry.map((row) => ({ team: String(row['team']), soonestNotAfter: new Date(row['soonest'] as string | Date), expiringUnrenewed: Number(row['expiring']) })),
    expiryHistogram: {
      buckets: EXPIRY_BUCKETS_SECONDS.map((le, i) => ({ le, count: total(`b${i}`) })),
      sumSeconds: total('sum_seconds'),
      count: total('count'),
    },
    approvalsByTeam: approvals.map((row) => ({ team: row.team, pending: Number(row.pending), oldestRequestedAt: new Date(row.oldest), pastHalfDeadline: Number(row.past_half) })),
    crls: crls.map((row) => ({ issuer: row.issuer, thisUpdate: new Date(row.this_update), nextUpdate: new Date(row.next_update) })),
    bulkOperationsByState: bulkStates.map((row) => ({ state: row.state, count: Number(row.count) })),
    unfinishedBulkOperations: bulkOpen.map((row) => ({ id: row.id, counts: row.counts })),
    acmeOrdersByStatus: acme.map((row) => ({ status: row.expired ? 'expired' : row.status, count: Number(row.count) })),
  };
}
