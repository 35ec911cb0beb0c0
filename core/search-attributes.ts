/**
 * Search attributes registered on the Temporal server (DESIGN.md §4). The dev server registers them at
 * start-up; production clusters register them once with `temporal operator search-attribute create`.
 */
export const SEARCH_ATTRIBUTES = {
  CertificateId: 'Keyword',
  Team: 'Keyword',
  CommonName: 'Keyword',
  IssuerId: 'Keyword',
  CertState: 'Keyword',
  NotAfter: 'Datetime',
  RenewalAttempt: 'Int',
  BulkOperationId: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;
