/**
 * Error types that cross the workflow/activity boundary as `ApplicationFailure.type`. Business
 * errors are non-retryable: retrying cannot make a forbidden name allowed.
 */
export const BUSINESS_ERROR_TYPES = {
  policyViolation: 'PolicyViolation',
  invalidRequest: 'InvalidRequest',
  certificateNotFound: 'CertificateNotFound',
  /** The certificate is revoked: nothing more is issued for it. */
  certificateRevoked: 'CertificateRevoked',
  noActiveIssuer: 'NoActiveIssuer',
  /** A destination refused the delivery for a reason retrying cannot fix (e.g. a webhook answered 401). */
  destinationRejected: 'DestinationRejected',
} as const;

export type BusinessErrorType = (typeof BUSINESS_ERROR_TYPES)[keyof typeof BUSINESS_ERROR_TYPES];

export const NON_RETRYABLE_ERROR_TYPES: string[] = Object.values(BUSINESS_ERROR_TYPES);

/**
 * Rollout outcomes that are not errors of the step but of the rollout: the workflow rolls the
 * destination back and retries the rollout later instead of retrying the step.
 */
export const ROLLOUT_ERROR_TYPES = {
  /** An agent did not report the deployment before the destination's reportTimeout. */
  deliveryTimeout: 'DeliveryTimeout',
  /** The rollout row was taken over by a newer request of the same workflow. */
  rolloutSuperseded: 'RolloutSuperseded',
} as const;
