/**
 * The activity behind an ACME challenge answer: validates it (activities/acme-challenge-validation.ts)
 * and records the outcome on the challenge and its authorization. A transient failure is retried by
 * Temporal; on the last attempt it is recorded as the challenge's failure, so every answered
 * challenge ends valid or invalid.
 */
import { Resolver } from 'node:dns/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { keyAuthorization } from '../core/acme-key-authorization.js';
import { ACME_VALIDATION_UNAVAILABLE, type AcmeValidationProblem, type ChallengeValidationResult } from '../core/acme-validation-outcome.js';
import type { DestinationHostPolicy } from '../core/destination-hosts.js';
import type { TeamPolicy } from '../core/policy.js';
import { findAccount } from '../db/acme-accounts.js';
import { findAuthorization, findChallenge, markOrderInvalid, moveAuthorization, moveChallenge } from '../db/acme-orders.js';
import { findTeam } from '../db/teams.js';
import { validateChallenge, type AcmeValidationDeps } from './acme-challenge-validation.js';
import { DEFAULT_ACME_VALIDATION_CONFIG } from './acme-validation-config.js';
import type { ActivityDeps } from './deps.js';
import { DestinationGuard } from './destination-guard.js';

/**
 * The dependencies validation runs with: its configuration, and a destination guard that resolves
 * names through the configured resolver (CERTFLOW_ACME_DNS_RESOLVER) like dns-01 does, so that all
 * three challenge types see the same DNS.
 */
export function withAcmeValidation(deps: ActivityDeps): ActivityDeps & AcmeValidationDeps {
  const acmeValidation = deps.acmeValidation ?? DEFAULT_ACME_VALIDATION_CONFIG;
  if (!acmeValidation.dnsResolver) return { ...deps, acmeValidation };
  const resolver = new Resolver({ timeout: acmeValidation.timeoutMs, tries: 2 });
  resolver.setServers([acmeValidation.dnsResolver]);
  const addresses = (lookup: Promise<string[]>) => lookup.catch((error: NodeJS.ErrnoException) => (error.code === 'ENOTFOUND' || error.code === 'ENODATA' ? [] : Promise.reject(error)));
  const resolveHost = async (name: string) => [...(await addresses(resolver.resolve4(name))), ...(await addresses(resolver.resolve6(name)))];
  return { ...deps, acmeValidation, destinationGuard: new DestinationGuard(deps.destinationGuard.rules, resolveHost) };
}

/** Attempts of the validation activity (its retry policy, workflows/acme-challenge.ts); the last one records a failure. */
export const CHALLENGE_VALIDATION_ATTEMPTS = 4;

export interface ValidateAcmeChallengeInput {
  challengeId: string;
}

export async function validateAcmeChallenge(deps: ActivityDeps & AcmeValidationDeps, input: ValidateAcmeChallengeInput): Promise<'valid' | 'invalid'> {
  const challenge = await findChallenge(deps.db, input.challengeId);
  if (!challenge) throw ApplicationFailure.nonRetryable(`no ACME challenge ${input.challengeId}`);
  if (challenge.status === 'valid' || challenge.status === 'invalid') return challenge.status;
  const authorization = (await findAuthorization(deps.db, challenge.authorizationId))!;
  const account = (await findAccount(deps.db, authorization.accountId))!;
  const team = account.teamId ? await findTeam(deps.db, account.teamId) : null;
  let result: ChallengeValidationResult;
  try {
    result = await validateChallenge(deps, {
      type: challenge.type,
      identifier: authorization.identifier,
      token: challenge.token,
      keyAuthorization: keyAuthorization(challenge.token, account.thumbprint),
      policy: team ? validationHostPolicy(team.policy, deps.acmeValidation) : undefined,
    });
  } catch (error) {
    const problem = lastAttemptProblem(error);
    if (!problem) throw error;
    result = { status: 'invalid', problem };
  }
  const now = deps.now();
  if (result.status === 'valid') {
    await moveChallenge(deps.db, challenge.id, ['pending', 'processing'], { status: 'valid', validatedAt: now });
    await moveAuthorization(deps.db, authorization.id, ['pending'], 'valid');
    return 'valid';
  }
  const error = { ...result.problem, status: 403 };
  await moveChallenge(deps.db, challenge.id, ['pending', 'processing'], { status: 'invalid', error });
  await moveAuthorization(deps.db, authorization.id, ['pending'], 'invalid');
  // A failed authorization fails its order (RFC 8555 §7.1.6); stored, so that it replaces nothing any more.
  await markOrderInvalid(deps.db, authorization.orderId, { ...error, detail: `${authorization.identifier.value}: ${result.problem.detail}` }, now);
  return 'invalid';
}

/**
 * Where validation may connect: the names and ranges the team may have certificates for (the order
 * passed that policy already), on the validation ports only; the platform's deny list still applies.
 */
function validationHostPolicy(policy: TeamPolicy, config: AcmeValidationDeps['acmeValidation']): DestinationHostPolicy {
  return {
    zones: policy.allowedDomains,
    cidrs: policy.allowIpSans ? (policy.allowedIpRanges ?? ['0.0.0.0/0', '::/0']) : [],
    ports: [config.httpPort, config.tlsAlpnPort],
  };
}

/** On the last attempt, the problem a transient failure carries becomes the challenge's failure. */
function lastAttemptProblem(error: unknown): AcmeValidationProblem | null {
  if (!(error instanceof ApplicationFailure) || error.type !== ACME_VALIDATION_UNAVAILABLE) return null;
  if (Context.current().info.attempt < CHALLENGE_VALIDATION_ATTEMPTS) return null;
  return (error.details?.[0] as AcmeValidationProblem | undefined) ?? { type: 'urn:ietf:params:acme:error:connection', detail: error.message };
}
