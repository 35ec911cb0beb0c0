/** The JSON resources of the ACME protocol (RFC 8555 §7.1) as Certflow renders them. */
import { authorizationStatusAt, orderStatusAt, type AuthorizationStatus, type OrderStatus } from '../../core/acme-order.js';
import type { AcmeAccountRow } from '../../db/acme-accounts.js';
import type { AcmeAuthorizationRow, AcmeChallengeRow, AcmeOrderRow } from '../../db/acme-orders.js';
import type { AcmeUrls } from './context.js';

export function accountView(account: AcmeAccountRow, urls: AcmeUrls) {
  return { status: account.status, contact: account.contact, orders: urls.accountOrders(account.id) };
}

export function challengeView(challenge: AcmeChallengeRow, urls: AcmeUrls) {
  return {
    type: challenge.type,
    url: urls.challenge(challenge.id),
    status: challenge.status,
    token: challenge.token,
    ...(challenge.validatedAt ? { validated: challenge.validatedAt.toISOString() } : {}),
    ...(challenge.error ? { error: challenge.error } : {}),
  };
}

export function authorizationView(authorization: AcmeAuthorizationRow, challenges: AcmeChallengeRow[], urls: AcmeUrls, now: Date) {
  const status = authorizationStatusAt(authorization.status, authorization.expiresAt, now);
  return {
    identifier: authorization.identifier,
    status,
    expires: authorization.expiresAt.toISOString(),
    challenges: challenges.map((challenge) => challengeView(challenge, urls)),
    ...(authorization.wildcard ? { wildcard: true } : {}),
  };
}

/** The order's status at `now`, and the status each of its authorizations has then. */
export function currentOrderStatus(order: AcmeOrderRow, authorizations: AcmeAuthorizationRow[], now: Date): { status: OrderStatus; authorizationStatuses: AuthorizationStatus[] } {
  const authorizationStatuses = authorizations.map((authorization) => authorizationStatusAt(authorization.status, authorization.expiresAt, now));
  return { status: orderStatusAt(order.status, order.expiresAt, authorizationStatuses, now), authorizationStatuses };
}

export function orderView(order: AcmeOrderRow, status: OrderStatus, authorizations: AcmeAuthorizationRow[], certificateVersionId: string | null, urls: AcmeUrls) {
  return {
    status,
    expires: order.expiresAt.toISOString(),
    identifiers: order.identifiers,
    authorizations: authorizations.map((authorization) => urls.authorization(authorization.id)),
    finalize: urls.finalize(order.id),
    ...(status === 'valid' && certificateVersionId ? { certificate: urls.certificate(certificateVersionId) } : {}),
    ...(status === 'invalid' && order.error ? { error: order.error } : {}),
  };
}
