import type { SearchAttributeKey, SearchAttributeType } from '@temporalio/common/lib/search-attributes.js';

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
  /** When CertState last changed: "waiting longer than X" queries (stuck renewals). */
  CertStateSince: 'Datetime',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;

/** Typed keys for setting and upserting the attributes (plain objects, so this file stays pure). */
export const SEARCH_ATTRIBUTE_KEYS = {
  certificateId: { name: 'CertificateId', type: 'KEYWORD' },
  team: { name: 'Team', type: 'KEYWORD' },
  commonName: { name: 'CommonName', type: 'KEYWORD' },
  issuerId: { name: 'IssuerId', type: 'KEYWORD' },
  certState: { name: 'CertState', type: 'KEYWORD' },
  notAfter: { name: 'NotAfter', type: 'DATETIME' },
  renewalAttempt: { name: 'RenewalAttempt', type: 'INT' },
  bulkOperationId: { name: 'BulkOperationId', type: 'KEYWORD' },
  certStateSince: { name: 'CertStateSince', type: 'DATETIME' },
} as const satisfies Record<string, SearchAttributeKey<SearchAttributeType> & { name: SearchAttributeName }>;
