/**
 * What a challenge validation concludes (RFC 8555 §7.1.5): valid, or invalid with the problem the
 * challenge object shows the client (§6.7). A failure that may pass on its own (a timeout, a DNS
 * SERVFAIL) is not an outcome: the activity fails with ACME_VALIDATION_UNAVAILABLE and is retried;
 * when the retries run out, the caller records the problem carried in the failure's details.
 */

export const ACME_PROBLEM_TYPES = {
  /** Nothing could be connected to: refused, reset, unreachable, or an address the platform never connects to. */
  connection: 'urn:ietf:params:acme:error:connection',
  /** The client did not show it controls the identifier: the team's policy forbids the target, or the HTTP answer was not a 200. */
  unauthorized: 'urn:ietf:params:acme:error:unauthorized',
  /** DNS says the name or record does not exist. */
  dns: 'urn:ietf:params:acme:error:dns',
  /** The TLS handshake failed or did not negotiate acme-tls/1. */
  tls: 'urn:ietf:params:acme:error:tls',
  /** An answer arrived but is not the proof: wrong body, no matching TXT value, a wrong validation certificate. */
  incorrectResponse: 'urn:ietf:params:acme:error:incorrectResponse',
} as const;

export type AcmeValidationProblemType = (typeof ACME_PROBLEM_TYPES)[keyof typeof ACME_PROBLEM_TYPES];

export interface AcmeValidationProblem {
  type: AcmeValidationProblemType;
  detail: string;
}

export type ChallengeValidationResult = { status: 'valid' } | { status: 'invalid'; problem: AcmeValidationProblem };

/** `ApplicationFailure.type` of a transient validation failure; `details[0]` is the AcmeValidationProblem to record if it persists. */
export const ACME_VALIDATION_UNAVAILABLE = 'AcmeValidationUnavailable';

export const invalid = (type: keyof typeof ACME_PROBLEM_TYPES, detail: string): ChallengeValidationResult => ({
  status: 'invalid',
  problem: { type: ACME_PROBLEM_TYPES[type], detail },
});
