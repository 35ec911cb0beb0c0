/**
 * ACME errors (RFC 8555 §6.7): problem documents whose type is `urn:ietf:params:acme:error:<type>`.
 * Everything under /acme answers with these, never with the REST API's `/problems/…` types.
 */
import type { AcmeIdentifier } from '../../core/acme-order.js';

export const ACME_ERROR_TYPES = [
  'accountDoesNotExist',
  'alreadyReplaced',
  'alreadyRevoked',
  'badCSR',
  'badNonce',
  'badPublicKey',
  'badRevocationReason',
  'badSignatureAlgorithm',
  'caa',
  'compound',
  'connection',
  'dns',
  'externalAccountRequired',
  'incorrectResponse',
  'invalidContact',
  'malformed',
  'orderNotReady',
  'rateLimited',
  'rejectedIdentifier',
  'serverInternal',
  'tls',
  'unauthorized',
  'unsupportedContact',
  'unsupportedIdentifier',
  'userActionRequired',
] as const;
export type AcmeErrorType = (typeof ACME_ERROR_TYPES)[number];

export interface AcmeSubproblem {
  type: string;
  detail: string;
  identifier?: AcmeIdentifier;
}

export interface AcmeProblemBody {
  type: string;
  detail: string;
  status: number;
  subproblems?: AcmeSubproblem[];
  algorithms?: string[];
}

const DEFAULT_STATUS: Partial<Record<AcmeErrorType, number>> = {
  accountDoesNotExist: 400,
  alreadyReplaced: 409,
  unauthorized: 403,
  rejectedIdentifier: 400,
  orderNotReady: 403,
  rateLimited: 429,
  serverInternal: 500,
  userActionRequired: 403,
};

export class AcmeProblem extends Error {
  readonly status: number;

  constructor(
    readonly acmeType: AcmeErrorType,
    detail: string,
    readonly extras: { status?: number; subproblems?: AcmeSubproblem[]; algorithms?: string[]; retryAfterSeconds?: number } = {},
  ) {
    super(detail);
    this.name = 'AcmeProblem';
    this.status = extras.status ?? DEFAULT_STATUS[acmeType] ?? 400;
  }

  toBody(): AcmeProblemBody {
    return {
      type: acmeErrorUrn(this.acmeType),
      detail: this.message,
      status: this.status,
      ...(this.extras.subproblems ? { subproblems: this.extras.subproblems } : {}),
      ...(this.extras.algorithms ? { algorithms: this.extras.algorithms } : {}),
    };
  }
}

export function acmeErrorUrn(type: AcmeErrorType): string {
  return `urn:ietf:params:acme:error:${type}`;
}
