/** Error groups (schema.ts `error_groups`): one row per (team, type, reason), counted as failures happen. */
import { and, count, desc, eq, gte, inArray, isNull, sql } from 'drizzle-orm';
import type { Queryable } from './database.js';
import { newId } from './ids.js';
import { errorGroupCertificates, errorGroups } from './schema.js';

export type ErrorGroupRow = typeof errorGroups.$inferSelect;

export interface FailureOccurrence {
  teamId: string | null;
  certificateId: string | null;
  type: string;
  reason: string;
  message: string;
  activity: string;
  at: Date;
}

/**
 * Most groups one team (or the platform) gets: failures with a new reason beyond it are counted in one
 * group per type with OVERFLOW_REASON, so text a team controls cannot grow the table without bound.
 */
export const MAX_GROUPS_PER_TEAM = 200;
export const OVERFLOW_REASON = '(other reasons: this team has reached its error group limit)';

/** Counts one failure into its group (created at the first one) and into the group's certificate list. */
export async function recordFailure(db: Queryable, occurrence: FailureOccurrence): Promise<string> {
  const failure = { ...occurrence, reason: await reasonWithinCap(db, occurrence) };
  const [group] = await db
    .insert(errorGroups)
    .values({
      id: newId('err'),
      teamId: failure.teamId,
      type: failure.type,
      reason: failure.reason,
      lastMessage: failure.message,
      lastActivity: failure.activity,
      firstSeen: failure.at,
      lastSeen: failure.at,
      count: 1,
    })
    .onConflictDoUpdate({
      target: [errorGroups.teamId, errorGroups.type, errorGroups.reason],
      set: {
        count: sql`${errorGroups.count} + 1`,
        lastSeen: sql`greatest(${errorGroups.lastSeen}, excluded.last_seen)`,
        firstSeen: sql`least(${errorGroups.firstSeen}, excluded.first_seen)`,
        lastMessage: sql`excluded.last_message`,
        lastActivity: sql`excluded.last_activity`,
      },
    })
    .returning({ id: errorGroups.id });
  if (failure.certificateId) {
    await db
      .insert(errorGroupCertificates)
      .values({ groupId: group!.id, certificateId: failure.certificateId, firstSeen: failure.at, lastSeen: failure.at, count: 1 })
      .onConflictDoUpdate({
        target: [errorGroupCertificates.groupId, errorGroupCertificates.certificateId],
        set: { count: sql`${errorGroupCertificates.count} + 1`, lastSeen: sql`greatest(${errorGroupCertificates.lastSeen}, excluded.last_seen)` },
      });
  }
  return group!.id;
}

async function reasonWithinCap(db: Queryable, failure: FailureOccurrence): Promise<string> {
  const ofTeam = failure.teamId === null ? isNull(errorGroups.teamId) : eq(errorGroups.teamId, failure.teamId);
  const [existing] = await db
    .select({ id: errorGroups.id })
    .from(errorGroups)
    .where(and(ofTeam, eq(errorGroups.type, failure.type), eq(errorGroups.reason, failure.reason)));
  if (existing) return failure.reason;
  const [row] = await db.select({ n: count() }).from(errorGroups).where(ofTeam);
  return (row?.n ?? 0) >= MAX_GROUPS_PER_TEAM ? OVERFLOW_REASON : failure.reason;
}

export interface ErrorGroupView extends ErrorGroupRow {
  certificateCount: number;
  sampleCertificateIds: string[];
}

const SAMPLE_SIZE = 5;

/**
 * Groups seen since `since`, most recent first: a team's own (`teamId`), or every group (`teamId`
 * undefined, platform admins). Each with how many certificates it touched and the latest few of them.
 */
export async function listErrorGroups(db: Queryable, filter: { teamId?: string | null; since?: Date; type?: string; limit: number }): Promise<ErrorGroupView[]> {
  const conditions = [
    filter.teamId === undefined ? undefined : filter.teamId === null ? isNull(errorGroups.teamId) : eq(errorGroups.teamId, filter.teamId),
    filter.since ? gte(errorGroups.lastSeen, filter.since) : undefined,
    filter.type ? eq(errorGroups.type, filter.type) : undefined,
  ];
  const groups = await db
    .select()
    .from(errorGroups)
    .where(and(...conditions))
    .orderBy(desc(errorGroups.lastSeen), desc(errorGroups.id))
    .limit(filter.limit);
  if (groups.length === 0) return [];
  const ids = groups.map((group) => group.id);
  const counts = await db
    .select({ groupId: errorGroupCertificates.groupId, certificates: sql<number>`count(*)::int` })
    .from(errorGroupCertificates)
    .where(inArray(errorGroupCertificates.groupId, ids))
    .groupBy(errorGroupCertificates.groupId);
  const samples = await db.execute<{ group_id: string; certificate_id: string }>(sql`
    select group_id, certificate_id from (
      select group_id, certificate_id, row_number() over (partition by group_id order by last_seen desc, certificate_id) as rank
      from ${errorGroupCertificates} where group_id in ${sql`(${sql.join(ids.map((id) => sql`${id}`), sql`, `)})`}
    ) ranked where rank <= ${SAMPLE_SIZE} order by group_id, rank`);
  return groups.map((group) => ({
    ...group,
    certificateCount: counts.find((row) => row.groupId === group.id)?.certificates ?? 0,
    sampleCertificateIds: samples.rows.filter((row) => row.group_id === group.id).map((row) => row.certificate_id),
  }));
}
