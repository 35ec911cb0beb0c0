/**
 * A team-policy refusal as a problem: 403 `/problems/policy-violation`, `code` the first
 * violation's (as before), and `errors[]` with one entry per violation, each with its code and
 * the field (`uris/1`, `ipAddresses/0`, `validity`, …) it is about.
 */
import { canonicalizeDnsName } from '../core/names.js';
import { canonicalizeIp } from '../core/ip.js';
import type { PolicyViolation, PolicyViolationCode } from '../core/policy.js';
import { problems, type FieldProblem, type ProblemError } from './problem.js';

/** The names as the client sent them, to point at their index; the request may also have named them in a CSR only. */
export interface SentNames {
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  uris?: readonly string[];
}

const CANONICAL: Record<NonNullable<PolicyViolation['field']>, (value: string) => string> = {
  dnsNames: canonicalizeDnsName,
  ipAddresses: canonicalizeIp,
  uris: (value) => value,
};

/** The body field of a violation that is not about one name. */
const REQUEST_FIELD: Partial<Record<PolicyViolationCode, string>> = {
  profile_not_allowed: 'profile',
  key_algorithm_not_allowed: 'keyAlgorithm',
  validity_too_long: 'validity',
  validity_too_short: 'validity',
};

function fieldOf(violation: PolicyViolation, sent: SentNames, fallback: string | undefined): string {
  if (!violation.field) return fallback ?? REQUEST_FIELD[violation.code] ?? '(body)';
  if (violation.name === undefined) return violation.field;
  const canonical = CANONICAL[violation.field];
  const index = (sent[violation.field] ?? []).findIndex((value) => {
    try {
      return canonical(value) === violation.name;
    } catch {
      return false;
    }
  });
  return index < 0 ? violation.field : `${violation.field}/${index}`;
}

/** `fallbackField` names the field of every violation that is not about one name (e.g. `csr`); without it, the request field. */
export function policyProblem(violations: readonly PolicyViolation[], sent: SentNames, fallbackField?: string): ProblemError {
  const errors: FieldProblem[] = violations.map((violation) => ({ field: fieldOf(violation, sent, fallbackField), message: violation.message, code: violation.code }));
  const detail = violations.length === 1 ? violations[0]!.message : `the team policy refuses ${violations.length} things: ${violations.map((v) => v.message).join('; ')}`;
  return problems.policyViolation(violations[0]!.code, detail, errors);
}
