/**
 * What the three ACME challenge validations share: connecting only where the DestinationGuard
 * admits, and sorting every failure into a final outcome (returned) or a transient one (thrown as
 * a retryable ACME_VALIDATION_UNAVAILABLE failure carrying the problem to record if it persists).
 */
import { ApplicationFailure } from '@temporalio/common';
import { ACME_PROBLEM_TYPES, ACME_VALIDATION_UNAVAILABLE, invalid, type AcmeValidationProblem, type ChallengeValidationResult } from '../core/acme-validation-outcome.js';
import type { DestinationHostPolicy, DestinationRefusalCode } from '../core/destination-hosts.js';
import type { AcmeValidationConfig } from './acme-validation-config.js';
import { DestinationRefused, HostNotFound, type DestinationGuard } from './destination-guard.js';

export interface AcmeValidationDeps {
  /** Admits the validation target: the team's policy, then the platform's deny list on every address it resolves to. */
  destinationGuard: Pick<DestinationGuard, 'admit'>;
  acmeValidation: AcmeValidationConfig;
}

/** A failure that may pass: the activity fails and is retried. */
export function unavailable(type: keyof typeof ACME_PROBLEM_TYPES, detail: string): ApplicationFailure {
  const problem: AcmeValidationProblem = { type: ACME_PROBLEM_TYPES[type], detail };
  return ApplicationFailure.create({ message: detail, type: ACME_VALIDATION_UNAVAILABLE, details: [problem], nonRetryable: false });
}

const TEAM_POLICY_REFUSALS: ReadonlySet<DestinationRefusalCode> = new Set(['no_destination_policy', 'host_not_allowed', 'address_not_allowed', 'port_not_allowed']);

/**
 * The checked addresses of `host:port`, or the outcome when there are none: a refusal by the
 * team's policy is `unauthorized`, by the platform `connection`, a name DNS says does not exist
 * `dns`. A resolver that fails is transient; any other error (the platform's own) is rethrown as is.
 */
export async function admitTarget(deps: AcmeValidationDeps, policy: DestinationHostPolicy | undefined, host: string, port: number): Promise<string[] | ChallengeValidationResult> {
  try {
    return await deps.destinationGuard.admit(policy, host, port);
  } catch (error) {
    if (error instanceof DestinationRefused) {
      return invalid(TEAM_POLICY_REFUSALS.has(error.code) ? 'unauthorized' : 'connection', `Certflow does not connect there: ${error.message}`);
    }
    if (error instanceof HostNotFound) {
      if (error.code === undefined || error.code === 'ENOTFOUND' || error.code === 'ENODATA') return invalid('dns', `${host} has no address (no A or AAAA record)`);
      throw unavailable('dns', `cannot resolve ${host}: ${error.code}`);
    }
    throw error;
  }
}

/**
 * A connection's failure: refused, reset, unreachable and protocol errors are final (`connection`,
 * or `tls` once TCP is up on a TLS connection); timeouts and anything unrecognised are transient.
 */
export function connectionFailure(error: unknown, where: string, stage: { tcpConnected: boolean; tls: boolean }, timeoutMs: number): ChallengeValidationResult {
  const failure = error as NodeJS.ErrnoException;
  if (failure.name === 'TimeoutError' || failure.name === 'AbortError' || failure.code === 'ETIMEDOUT' || failure.code === 'ABORT_ERR') {
    throw unavailable('connection', `${where}: no answer within ${timeoutMs / 1000} s`);
  }
  switch (failure.code) {
    case 'ECONNREFUSED':
      return invalid('connection', `${where}: connection refused`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return invalid('connection', `${where}: unreachable (${failure.code})`);
    case 'ENOTFOUND':
      // Only from pinnedLookup: no checked address of the family the socket asked for.
      return invalid('connection', `${where}: no usable address`);
    case 'ECONNRESET':
    case 'EPIPE':
      return stage.tls && stage.tcpConnected ? invalid('tls', `${where}: the connection was reset during the TLS handshake`) : invalid('connection', `${where}: connection reset`);
  }
  if (stage.tls && stage.tcpConnected) return invalid('tls', `${where}: TLS handshake failed: ${failure.message}`);
  if (typeof failure.code === 'string' && failure.code.startsWith('HPE_')) return invalid('connection', `${where}: the answer is not HTTP (${failure.code})`);
  throw unavailable('connection', `${where}: ${failure.message}`);
}

/** An excerpt of what a client's server answered, safe for logs and the challenge's detail: printable ASCII, short. */
export function excerpt(text: string, limit = 64): string {
  const clean = text.replace(/[^\x20-\x7e]+/g, ' ').replace(/\s+/g, ' ').trim();
  return JSON.stringify(clean.length > limit ? `${clean.slice(0, limit)}…` : clean);
}
