/**
 * What a message changes in a lifecycle run: the pure part of the signal and update handlers.
 * The workflow keeps one Inbox, replaces it with what these functions return, and waits on it.
 */
import type { RenewNowRequest, RevokeRequest } from './lifecycle.js';
import type { CertState } from './types.js';

export interface Inbox {
  /** A revocation was asked for: it cancels whatever the run is waiting on. */
  revoke: RevokeRequest | null;
  /** Retry the failing step now (a renewNow that arrived while a step was failing). */
  retryNow: boolean;
  /** Retry failed destinations now (retryRollout). */
  retryRollout: boolean;
  /** A renewal asked for after this run's version was issued: the next generation. */
  renewNext: { reason: string; bulkIds: string[] } | null;
  /** An ACME certificate's client finalized an order for the next generation (its CSR is stored). */
  clientRenewed: boolean;
  /** Bulk operations waiting for this run's outcome. */
  owed: string[];
  /** Bulk operations this run already reported to. */
  reported: string[];
}

export function emptyInbox(owed: readonly string[] = []): Inbox {
  return { revoke: null, retryNow: false, retryRollout: false, renewNext: null, clientRenewed: false, owed: [...new Set(owed)], reported: [] };
}

/** Where the run is when a renewNow arrives. */
export interface RunPosition {
  state: CertState;
  /** The run is backing off or waiting for an operator after a failed step. */
  failing: boolean;
  /** This run's version is issued: a renewal now means a new generation. */
  issued: boolean;
}

/**
 * A renewNow: while a step fails it means "try again now"; before this run's version is issued the
 * issuance under way serves it; after, it asks for the next generation. A bulk operation wants a
 * version issued after its request (an incident may have replaced the intermediate), so once this
 * run's version is issued it waits for the next generation even while a step fails (which is
 * retried now too). A bulk operation's request is owed an outcome by whichever run serves it; a
 * request the run already serves is a duplicate.
 */
export function receiveRenewNow(inbox: Inbox, request: RenewNowRequest, at: RunPosition): Inbox {
  if (at.state === 'revoked' || at.state === 'revoking' || inbox.revoke) return inbox;
  const bulkId = request.bulkOperationId ?? null;
  const knownHere = bulkId !== null && (inbox.owed.includes(bulkId) || inbox.reported.includes(bulkId));
  const forNextGeneration = at.issued && (!at.failing || (bulkId !== null && !knownHere));
  if (!forNextGeneration) {
    if (knownHere && !at.failing) return inbox;
    const owed = bulkId && !knownHere ? [...inbox.owed, bulkId] : inbox.owed;
    return { ...inbox, retryNow: at.failing || inbox.retryNow, owed };
  }
  if (knownHere) return inbox;
  const next = inbox.renewNext ?? { reason: request.reason, bulkIds: [] };
  if (bulkId && next.bulkIds.includes(bulkId)) return inbox;
  return { ...inbox, retryNow: at.failing || inbox.retryNow, renewNext: { reason: next.reason, bulkIds: bulkId ? [...next.bulkIds, bulkId] : next.bulkIds } };
}

/** A revoke: the first request's reason wins; later ones wait for the same revocation. */
export function receiveRevoke(inbox: Inbox, request: RevokeRequest): Inbox {
  return inbox.revoke ? inbox : { ...inbox, revoke: request };
}

/** The bulk operations still waiting for an outcome of this run; after a revocation also those of a renewal that will not happen. */
export function unreportedBulkIds(inbox: Inbox, includingNext: boolean): string[] {
  const waiting = includingNext ? [...inbox.owed, ...(inbox.renewNext?.bulkIds ?? [])] : inbox.owed;
  return [...new Set(waiting)].filter((bulkId) => !inbox.reported.includes(bulkId));
}

export function markReported(inbox: Inbox, bulkId: string): Inbox {
  return { ...inbox, reported: [...inbox.reported, bulkId] };
}
