/**
 * Stuck certificates (`GET /v1/certificates?stuck=true`), found through Temporal visibility on the
 * lifecycle workflows' search attributes — the same question an on-call engineer asks in the Temporal UI.
 * Stuck: running, and either `RenewalAttempt >= minAttempts`, or issuing/renewing/failed/rollout_failed
 * since longer than `stuckAfter` (`CertStateSince`).
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { LifecycleStatus } from '../core/lifecycle.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import type { CertState } from '../core/types.js';
import { findCertificate, type CertificateRow, type VersionRow } from '../db/certificates.js';
import type { Database } from '../db/database.js';
import { findVersion } from '../db/versions.js';
import { queryStatus } from './lifecycle-client.js';

/** States in which a certificate waits for something that should not take long. */
export const STUCK_STATES = ['issuing', 'renewing', 'failed', 'rollout_failed'] as const satisfies readonly CertState[];

/** Visibility cannot sort by our attributes (SQL visibility has no ORDER BY), so at most this many matches are sorted here. */
const MAX_SCANNED = 1_000;
/** Status queries run on a worker: a few at a time. */
const QUERY_CONCURRENCY = 8;

export interface StuckCriteria {
  /** The teams to look in (their names are what the `Team` attribute holds); null: every team. */
  teams: Array<{ id: string; name: string }> | null;
  minAttempts: number;
  stuckAfterSeconds: number;
  state?: CertState;
  expiringBefore?: Date;
  now: Date;
  limit: number;
}

export interface StuckCertificate {
  certificate: CertificateRow;
  version: VersionRow | null;
  /** Null when the workflow did not answer the status query in time. */
  live: LifecycleStatus | null;
}

/**
 * A string literal of the visibility query language. Backslash and double quote are escaped; control
 * characters cannot be escaped there, so they are refused rather than passed on.
 */
export function visibilityString(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new RangeError(`a visibility query value may not contain control characters: ${JSON.stringify(value)}`);
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

export function stuckVisibilityQuery(criteria: Omit<StuckCriteria, 'limit'>): string {
  const since = new Date(criteria.now.getTime() - criteria.stuckAfterSeconds * 1000).toISOString();
  const clauses = ['WorkflowType = "certificateLifecycle"', 'ExecutionStatus = "Running"'];
  if (criteria.teams) clauses.push(`${SEARCH_ATTRIBUTE_KEYS.team.name} IN (${criteria.teams.map((team) => visibilityString(team.name)).join(', ')})`);
  if (criteria.state) clauses.push(`${SEARCH_ATTRIBUTE_KEYS.certState.name} = ${visibilityString(criteria.state)}`);
  if (criteria.expiringBefore) clauses.push(`${SEARCH_ATTRIBUTE_KEYS.notAfter.name} < ${visibilityString(criteria.expiringBefore.toISOString())}`);
  const stateList = STUCK_STATES.map(visibilityString).join(', ');
  clauses.push(
    `(${SEARCH_ATTRIBUTE_KEYS.renewalAttempt.name} >= ${Math.trunc(criteria.minAttempts)}` +
      ` OR (${SEARCH_ATTRIBUTE_KEYS.certState.name} IN (${stateList}) AND ${SEARCH_ATTRIBUTE_KEYS.certStateSince.name} < ${visibilityString(since)}))`,
  );
  return clauses.join(' AND ');
}

export async function listStuckCertificates(deps: { db: Database; temporal: Client }, criteria: StuckCriteria): Promise<StuckCertificate[]> {
  if (criteria.teams?.length === 0) return [];
  const executions: WorkflowExecutionInfo[] = [];
  for await (const execution of deps.temporal.workflow.list({ query: stuckVisibilityQuery(criteria), pageSize: 200 })) {
    executions.push(execution);
    if (executions.length >= MAX_SCANNED) break;
  }
  executions.sort((a, b) => visibleSince(b) - visibleSince(a));

  const teamIds = criteria.teams ? new Set(criteria.teams.map((team) => team.id)) : null;
  const found = await mapConcurrently(executions.slice(0, criteria.limit), QUERY_CONCURRENCY, async (execution) => {
    const certificateId = execution.typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.certificateId);
    const certificate = certificateId ? await findCertificate(deps.db, certificateId) : null;
    // The Team attribute selected it; the row's team has the last word on who may see it.
    if (!certificate || (teamIds && !teamIds.has(certificate.teamId))) return null;
    const [version, live] = await Promise.all([
      certificate.currentVersionId ? findVersion(deps.db, certificate.currentVersionId) : null,
      queryStatus(deps.temporal, certificate.workflowId),
    ]);
    // Visibility lags the workflow by a moment: a live answer saying it recovered wins.
    if (live && !isStuckNow(live, criteria)) return null;
    return { item: { certificate, version, live }, since: problemSince(execution, live) };
  });
  return found
    .filter((entry) => entry !== null)
    .sort((a, b) => b.since - a.since)
    .map((entry) => entry.item);
}

function isStuckNow(live: LifecycleStatus, criteria: StuckCriteria): boolean {
  return live.attempt >= criteria.minAttempts || (STUCK_STATES as readonly CertState[]).includes(live.state);
}

/** When the certificate entered its current state, as visibility knows it (the start of the run when unknown). */
function visibleSince(execution: WorkflowExecutionInfo): number {
  return (execution.typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.certStateSince) ?? execution.startTime).getTime();
}

/** Newest problem first: when the current state began, else when the last error happened. */
function problemSince(execution: WorkflowExecutionInfo, live: LifecycleStatus | null): number {
  const stateSince = execution.typedSearchAttributes.get(SEARCH_ATTRIBUTE_KEYS.certStateSince);
  if (stateSince) return stateSince.getTime();
  const fromLive = live?.stateSince ?? live?.lastError?.at;
  return fromLive ? Date.parse(fromLive) : execution.startTime.getTime();
}

async function mapConcurrently<T, R>(items: T[], concurrency: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}
