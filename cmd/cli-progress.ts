/**
 * What the `certflow` CLI prints: the dry-run summary, the live progress line (bar, finished of
 * selected, outcomes, in flight, rate, ETA), a status report, API errors, and the exit code a
 * finished operation ends the CLI with. Pure functions of their inputs (the clock is a parameter).
 */
import type { Counts, DryRun, Operation, Problem } from './cli-api.js';

export const FINAL_STATES = ['completed', 'cancelled', 'failed'] as const;
const OUTCOMES = ['reissued', 'rolled_out', 'verified', 'failed', 'skipped'] as const;

export { EXIT_CANCELLED, EXIT_SOME_FAILED, EXIT_STOPPED_WATCHING } from './cli-exit.js';
import { EXIT_CANCELLED, EXIT_FAILURE, EXIT_OK, EXIT_SOME_FAILED } from './cli-exit.js';
export const EXIT_COMPLETED = EXIT_OK;
export const EXIT_ERROR = EXIT_FAILURE;

/** Where an operation stands, from the stored row and, while it runs, the workflow's live progress. */
export interface LiveState {
  state: string;
  counts: Counts;
  inFlight: number | null;
  ratePerSecond: number | null;
  etaAt: string | null;
  final: boolean;
}

export function liveState(operation: Pick<Operation, 'state' | 'counts' | 'progress'>): LiveState {
  const final = (FINAL_STATES as readonly string[]).includes(operation.state);
  const { progress } = operation;
  // Once the row says the run ended, it holds the final counts; before that the live query is fresher.
  if (final || !progress) {
    return { state: operation.state, counts: operation.counts, inFlight: final ? 0 : null, ratePerSecond: progress?.ratePerSecond ?? null, etaAt: null, final };
  }
  return { state: progress.state, counts: progress.counts, inFlight: progress.inFlight, ratePerSecond: progress.ratePerSecond, etaAt: progress.etaAt, final: false };
}

export function finished(counts: Counts): number {
  return OUTCOMES.reduce((sum, outcome) => sum + counts[outcome], 0);
}

/** `[######------]`: the filled share of `width` cells; an empty selection counts as complete. */
export function progressBar(done: number, total: number, width: number): string {
  const cells = Math.max(1, Math.floor(width));
  const fraction = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.floor(fraction * cells);
  return `[${'#'.repeat(filled)}${'-'.repeat(cells - filled)}]`;
}

/** `45s`, `3m05s`, `2h07m`. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${total}s`;
  if (total < 3600) return `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s`;
  return `${Math.floor(total / 3600)}h${String(Math.floor((total % 3600) / 60)).padStart(2, '0')}m`;
}

export function formatEta(etaAt: string | null, now: Date): string {
  if (!etaAt) return 'ETA ?';
  return `ETA ${formatDuration((new Date(etaAt).getTime() - now.getTime()) / 1000)}`;
}

/** The outcomes that occurred, and `failed` always: `reissued 3, failed 0`. */
export function formatOutcomes(counts: Counts): string {
  return OUTCOMES.filter((outcome) => outcome === 'failed' || counts[outcome] > 0)
    .map((outcome) => `${outcome} ${counts[outcome]}`)
    .join(', ');
}

/**
 * One line of progress, at most `columns` wide:
 * `[#####-----] 5/12 running · reissued 5, failed 0 · in flight 2 · 1.3/s · ETA 6s`.
 */
export function formatProgressLine(live: LiveState, now: Date, columns = 100): string {
  columns = Math.max(40, columns);
  const done = finished(live.counts);
  const parts = [
    `${done}/${live.counts.selected} ${live.state}`,
    formatOutcomes(live.counts),
    ...(live.counts.revoked > 0 ? [`revoked ${live.counts.revoked}`] : []),
    ...(live.inFlight !== null ? [`in flight ${live.inFlight}`] : []),
    ...(live.ratePerSecond !== null ? [`${live.ratePerSecond.toFixed(1)}/s`] : []),
    ...(live.final ? [] : [formatEta(live.etaAt, now)]),
  ];
  const text = parts.join(' · ');
  const barWidth = Math.max(10, Math.min(30, columns - text.length - 3));
  const line = `${progressBar(done, live.counts.selected, barWidth)} ${text}`;
  return line.length > columns ? `${line.slice(0, Math.max(1, columns - 1))}…` : line;
}

export function formatDryRun(dryRun: DryRun): string {
  const lines = [`${dryRun.count} certificate${dryRun.count === 1 ? '' : 's'} selected`];
  if (dryRun.perTeam.length > 0) {
    lines.push('per team:');
    const width = Math.max(...dryRun.perTeam.map((team) => team.teamName.length));
    for (const team of dryRun.perTeam) lines.push(`  ${team.teamName.padEnd(width)}  ${String(team.count).padStart(6)}  (${team.teamId})`);
  }
  if (dryRun.sample.length > 0) {
    lines.push(`sample (${dryRun.sample.length} of ${dryRun.count}):`);
    for (const row of dryRun.sample) {
      const names = row.dnsNames.length > 0 ? row.dnsNames.join(',') : (row.commonName ?? '(no name)');
      lines.push(`  ${row.certificateId}  ${names}  serial ${row.serial}  issuer ${row.issuerId}  expires ${row.notAfter}`);
    }
  }
  return lines.join('\n');
}

export function formatStatus(operation: Operation, now: Date): string {
  const live = liveState(operation);
  const lines = [
    `bulk operation ${operation.id} (${operation.workflowId})`,
    `  state      ${live.state}`,
    `  reason     ${operation.options.reason}`,
    `  selector   ${JSON.stringify(operation.selector)}`,
    `  pacing     ${operation.options.maxConcurrent} at once, ${operation.options.maxPerSecond}/s${operation.options.revokeSuperseded ? ', revoking superseded versions' : ''}`,
    `  created    ${operation.createdAt} by ${operation.createdBy}`,
    ...(operation.finishedAt ? [`  finished   ${operation.finishedAt}`] : []),
    `  progress   ${formatProgressLine(live, now)}`,
  ];
  if (!operation.progress && !live.final) lines.push('  (live progress unavailable: no worker answered; counts are the last recorded)');
  return lines.join('\n');
}

export function formatProblem(status: number, problem: Problem): string {
  const lines = [`error: ${problem.detail ?? problem.title ?? `HTTP ${status}`}`];
  for (const error of problem.errors ?? []) lines.push(`  ${error.field}: ${error.message}`);
  return lines.join('\n');
}

/** The exit code of a finished operation, or null while it runs. */
export function exitCodeFor(state: string, counts: Counts): number | null {
  if (state === 'cancelled') return EXIT_CANCELLED;
  if (state === 'failed') return EXIT_ERROR;
  if (state === 'completed') return counts.failed > 0 ? EXIT_SOME_FAILED : EXIT_COMPLETED;
  return null;
}

export function formatSummary(live: LiveState): string {
  const code = exitCodeFor(live.state, live.counts);
  const verdict = code === EXIT_COMPLETED ? 'completed' : code === EXIT_SOME_FAILED ? `completed with ${live.counts.failed} failed` : live.state;
  return `${verdict}: ${finished(live.counts)}/${live.counts.selected} finished (${formatOutcomes(live.counts)}${live.counts.revoked > 0 ? `, revoked ${live.counts.revoked}` : ''})`;
}
