/**
 * ACME Renewal Information (RFC 9773 §4): `GET /acme/renewal-info/<certID>` answers the window in
 * which Certflow wants the client to renew. Normally it starts at the certificate's renewal time;
 * when Certflow wants it replaced now (a bulk reissue, a revocation, a compromised issuer) the window
 * lies in the past and `explanationURL` says why.
 */
import type { Context } from 'hono';
import { suggestedWindow } from '../../core/ari.js';
import { renewalTime } from '../../core/renewal.js';
import type { AcmeDeps } from './context.js';
import { versionOfCertId } from './replacement.js';

/** How often a client should ask again while nothing is forced (RFC 9773 §4.3.2 suggests hours). */
const RETRY_AFTER_SECONDS = 6 * 3600;
/** Once a renewal is asked for, clients should look again soon. */
const RETRY_AFTER_FORCED_SECONDS = 60;

export async function renewalInfo(c: Context, deps: AcmeDeps): Promise<Response> {
  const found = await versionOfCertId(deps, c.req.param('certId')!);
  const { certificate, version } = found;
  // Revoked, or asked to renew after this version was issued: the window lies in the past.
  const revokedAt = version.status === 'revoked' ? (version.revokedAt ?? deps.now()) : null;
  const requestedAt = certificate.renewalRequestedAt && certificate.renewalRequestedAt.getTime() >= version.createdAt.getTime() ? certificate.renewalRequestedAt : null;
  const forcedAt = revokedAt ?? requestedAt;
  const window = suggestedWindow({
    // The lifecycle's own renewal time (it judges overdue by the same window): from the issuance, not the backdated notBefore.
    renewAt: renewalTime({
      issuedAt: version.createdAt,
      notAfter: version.notAfter,
      certificateId: certificate.id,
      generation: version.generation,
      renewBeforeSeconds: certificate.renewBeforeSeconds,
    }),
    notAfter: version.notAfter,
    ...(forcedAt ? { forced: { at: forcedAt, explanationUrl: `${new URL(c.req.url).origin}/acme/renewal-explanation/${c.req.param('certId')}` } } : {}),
  });
  c.header('Retry-After', String(window.explanationUrl ? RETRY_AFTER_FORCED_SECONDS : RETRY_AFTER_SECONDS));
  return c.json({
    suggestedWindow: { start: window.start.toISOString(), end: window.end.toISOString() },
    ...(window.explanationUrl ? { explanationURL: window.explanationUrl } : {}),
  });
}

/** Why Certflow asks for the renewal, in words for the person who follows explanationURL. */
export async function renewalExplanation(c: Context, deps: AcmeDeps): Promise<Response> {
  const { certificate, version } = await versionOfCertId(deps, c.req.param('certId')!);
  const reason =
    version.status === 'revoked'
      ? `certificate ${version.serial} was revoked (${version.revocationReason ?? 'unspecified'}); obtain a new one now.`
      : certificate.renewalRequestedAt && certificate.renewalRequestedAt.getTime() >= version.createdAt.getTime()
        ? `Certflow asks for this certificate to be replaced now: ${certificate.renewalRequestReason ?? 'no reason given'}.`
        : 'No early renewal is asked for this certificate.';
  return c.text(`${reason}\n`);
}
