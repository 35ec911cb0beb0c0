/**
 * The `Idempotency-Key` header of `POST /v1/certificates`: what a key may look like, whose keys
 * share a namespace, and the canonical form of a request compared across retries.
 *
 * - A key belongs to the token's team (a platform admin token without team: to that token), so two
 *   teams never see each other's keys.
 * - Same key and same request: the first answer again (status and body), nothing new is created.
 *   "Same" is the JSON body with object keys sorted; whitespace and key order do not matter.
 * - Same key and another request: 422, nothing changed.
 * - Same key while the first request is still being worked on: the retry waits for its answer a
 *   few seconds, then gets 409 with `Retry-After` (nothing is created twice: the key is a primary key).
 * - A refused request (400/403/...) or one that certainly created nothing leaves no trace, so the
 *   key can be used again. A request whose start could not be confirmed keeps its key: a retry
 *   with it resumes that certificate instead of making another one.
 * - Keys are remembered for 24 hours at least.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Principal } from './deps.js';
import { ProblemError } from './problem.js';
import { parseWith } from './validation.js';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENCY_RETENTION_SECONDS = 24 * 3600;
/** Longer than a create can take (start deadline, confirmation, restart); after it a retry may resume. */
export const IDEMPOTENCY_LEASE_SECONDS = 60;

export const idempotencyKeySchema = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .regex(/^[\x21-\x7e]+$/, 'may contain only visible ASCII characters (a UUID is a good key)');

export function parseIdempotencyKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  return parseWith(z.strictObject({ [IDEMPOTENCY_KEY_HEADER]: idempotencyKeySchema }), { [IDEMPOTENCY_KEY_HEADER]: header })[IDEMPOTENCY_KEY_HEADER]!;
}

export function idempotencyScope(principal: Principal): string {
  return principal.teamId ? `team:${principal.teamId}` : `token:${principal.tokenId}`;
}

/** SHA-256 of the body's JSON with object keys sorted at every level. */
export function requestHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const idempotencyProblems = {
  reusedWithAnotherRequest: (key: string) =>
    new ProblemError(
      422,
      'idempotency-key-reused',
      'Idempotency-Key already used for another request',
      `the Idempotency-Key "${key}" was used with a different request body; send the same body to get the first answer again, or use a new key for a new request`,
    ),
  inProgress: (key: string) =>
    new ProblemError(
      409,
      'idempotency-key-in-progress',
      'A request with this Idempotency-Key is in progress',
      `a request with the Idempotency-Key "${key}" is still being processed; retry the same request in a second to get its answer`,
    ),
};
