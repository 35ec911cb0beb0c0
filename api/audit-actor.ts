/**
 * Who an API request's audit events name: the ONE place an API principal becomes an audit actor.
 * The actor is the principal (the person or service the token or OIDC subject belongs to), so
 * events of one person read alike whichever of their tokens they used.
 */
import type { Principal } from './deps.js';

export function auditActor(principal: Principal): { actor: string; principalId: string } {
  return { actor: principal.principalId, principalId: principal.principalId };
}
