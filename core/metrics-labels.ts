/**
 * Label values of Certflow's Prometheus metrics, kept bounded: a label takes values from a fixed list or
 * from a set the operator controls (teams, capped), never from what a request carries (names, ids).
 */
import { BUSINESS_ERROR_TYPES, ROLLOUT_ERROR_TYPES } from './errors.js';

/** `PolicyViolation` → `policy_violation`. */
export function snakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toLowerCase();
}

/** Reasons a failure metric is labelled with: the known error types, `internal` (any other error). */
export const FAILURE_REASONS = [...[...Object.values(BUSINESS_ERROR_TYPES), ...Object.values(ROLLOUT_ERROR_TYPES)].map(snakeCase), 'internal'] as const;

/** The reason label of a failure of type `errorType` (an ApplicationFailure's type); unknown types are `internal`. */
export function failureReasonLabel(errorType: string | undefined | null): string {
  const reason = errorType ? snakeCase(errorType) : 'internal';
  return (FAILURE_REASONS as readonly string[]).includes(reason) ? reason : 'internal';
}

/** The label teams beyond the cap share. Team names cannot start with `_` (api/schemas.ts), so it names no team. */
export const OTHER_TEAMS_LABEL = '_other';

/**
 * The team label of each team name: the first `maxTeams` names (sorted) keep their own, the rest share
 * OTHER_TEAMS_LABEL, so a metric has at most `maxTeams + 1` team values however many teams exist.
 */
export function teamLabels(teamNames: Iterable<string>, maxTeams: number): Map<string, string> {
  const sorted = [...new Set(teamNames)].sort();
  return new Map(sorted.map((name, index) => [name, index < maxTeams ? name : OTHER_TEAMS_LABEL]));
}
