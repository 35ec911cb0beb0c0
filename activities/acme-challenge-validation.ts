/**
 * ACME challenge validation (RFC 8555 §8, RFC 8737, RFC 8738), the I/O the validation activity
 * runs. A definitive failure is an outcome, returned, so the caller marks the challenge invalid
 * with its problem; a transient one (a timeout, a failing resolver) is thrown as a retryable
 * ACME_VALIDATION_UNAVAILABLE failure whose details[0] is the problem to record if retries run out.
 * An input the protocol layer should never have produced fails non-retryably (InvalidRequest).
 */
import { ApplicationFailure } from '@temporalio/common';
import { AcmeChallengeTargetError, challengeIdentifier, type AcmeChallengeType, type AcmeIdentifier } from '../core/acme-challenge-targets.js';
import { isValidToken } from '../core/acme-key-authorization.js';
import type { ChallengeValidationResult } from '../core/acme-validation-outcome.js';
import type { DestinationHostPolicy } from '../core/destination-hosts.js';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import { validateDns01 } from './acme-dns01.js';
import { validateHttp01 } from './acme-http01.js';
import { validateTlsAlpn01 } from './acme-tls-alpn01.js';
import type { AcmeValidationDeps } from './acme-validation-support.js';

export type { AcmeValidationDeps } from './acme-validation-support.js';

export interface ChallengeValidationInput {
  type: AcmeChallengeType;
  identifier: AcmeIdentifier;
  token: string;
  /** core/acme-key-authorization.ts keyAuthorization(token, the account key's thumbprint). */
  keyAuthorization: string;
  /** The team's destination host policy: http-01 and tls-alpn-01 connect only where it allows (dns-01 connects to no client host). */
  policy: DestinationHostPolicy | undefined;
}

export async function validateChallenge(deps: AcmeValidationDeps, input: ChallengeValidationInput): Promise<ChallengeValidationResult> {
  const identifier = checkedIdentifier(input);
  switch (input.type) {
    case 'http-01':
      return validateHttp01(deps, { identifier, token: input.token, keyAuthorization: input.keyAuthorization, policy: input.policy });
    case 'dns-01':
      return validateDns01(deps, { name: identifier.value, keyAuthorization: input.keyAuthorization });
    case 'tls-alpn-01':
      return validateTlsAlpn01(deps, { identifier, keyAuthorization: input.keyAuthorization, policy: input.policy });
    default:
      throw invalidInput(`unknown challenge type ${JSON.stringify(input.type)}`);
  }
}

function checkedIdentifier(input: ChallengeValidationInput): AcmeIdentifier {
  if (!isValidToken(input.token)) throw invalidInput('the challenge token is not base64url of at least 128 bits');
  if (!input.keyAuthorization.startsWith(`${input.token}.`)) throw invalidInput("the key authorization is not the challenge's token and a thumbprint");
  try {
    return challengeIdentifier(input.type, input.identifier);
  } catch (error) {
    if (error instanceof AcmeChallengeTargetError) throw invalidInput(error.message);
    throw error;
  }
}

function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(`ACME challenge validation: ${message}`, BUSINESS_ERROR_TYPES.invalidRequest);
}
