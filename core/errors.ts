/**
 * Error types that cross the workflow/activity boundary as `ApplicationFailure.type`. Business
 * errors are non-retryable: retrying cannot make a forbidden name allowed.
 */
export const BUSINESS_ERROR_TYPES = {
  policyViolation: 'PolicyViolation',
  invalidRequest: 'InvalidRequest',
  certificateNotFound: 'CertificateNotFound',
  noActiveIssuer: 'NoActiveIssuer',
} as const;

export type BusinessErrorType = (typeof BUSINESS_ERROR_TYPES)[keyof typeof BUSINESS_ERROR_TYPES];

export const NON_RETRYABLE_ERROR_TYPES: string[] = Object.values(BUSINESS_ERROR_TYPES);
