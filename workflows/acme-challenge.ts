/**
 * acmeChallengeValidation — one per answered ACME challenge (workflow id `acme-challenge/<id>`):
 * validates it with retries and records valid or invalid. Started by the API when the client
 * answers; a second answer finds it running or done.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { AcmeChallengeInput } from '../contracts/acme-messages.js';

const { validateAcmeChallenge } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  // Four attempts over about a minute: the client polls meanwhile; the last attempt records a failure (activities/acme-challenge.ts).
  retry: { initialInterval: '2 seconds', backoffCoefficient: 3, maximumInterval: '30 seconds', maximumAttempts: 4 },
});

export async function acmeChallengeValidation(input: AcmeChallengeInput): Promise<'valid' | 'invalid'> {
  return validateAcmeChallenge({ challengeId: input.challengeId });
}
