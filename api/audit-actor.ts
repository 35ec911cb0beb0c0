/**
 * Who an API request's audit events name: the ONE place an API principal becomes an audit actor.
 * Today the token id; once tokens belong to principals, `principalId` carries the person or service.
 */
import type { Principal } from './deps.js';

export function auditActor(principal: Principal): { actor: string; principalId: string | null } {
  return { actor: principal.tokenId, principalId: null };
}
