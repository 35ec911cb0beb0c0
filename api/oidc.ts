/**
 * OpenID Connect bearer tokens (issue 11 §5): the API accepts JWT access tokens of one configured
 * issuer. Pinned: the issuer (also the discovery document's), the audience, the algorithms
 * (RS256/ES256 by default; never `none` or HMAC), `exp`/`nbf` with a small clock tolerance. The
 * signing keys come from the `jwks_uri` of the issuer's discovery document; jose caches them and
 * refetches (rate-limited) when a token names an unknown key id.
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { z } from 'zod';

export interface OidcSettings {
  issuer: string;
  audience: string;
  /** Claim holding the team (id or name). */
  teamClaim: string;
  /** Claim holding the role (`requester`, `approver`, `responder`, `admin`). */
  roleClaim: string;
  algorithms: string[];
  clockToleranceSeconds: number;
}

/** What a verified token says: who (issuer + subject), their display name, and the claimed team and role (unchecked). */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  name: string;
  email: string | null;
  team: unknown;
  role: unknown;
}

export interface OidcVerifier {
  /** The identity of a valid token; throws OidcRejected with the reason otherwise. */
  verify(token: string): Promise<OidcIdentity>;
}

export class OidcRejected extends Error {
  override name = 'OidcRejected';
}

const discoverySchema = z.object({ issuer: z.string(), jwks_uri: z.url() });

/** A JWS compact serialization: three base64url parts, the first a JSON header. */
export function looksLikeJwt(token: string): boolean {
  return /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/.test(token);
}

export function createOidcVerifier(settings: OidcSettings, fetchImpl: typeof fetch = fetch): OidcVerifier {
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null;

  async function discover(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    const url = `${settings.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`OIDC discovery at ${url} answered ${response.status}`);
    const document = discoverySchema.parse(await response.json());
    // OpenID Connect Discovery §4.3: the document must name exactly the issuer it was fetched for.
    if (document.issuer !== settings.issuer) throw new Error(`OIDC discovery at ${url} names issuer ${document.issuer}, not ${settings.issuer}`);
    return createRemoteJWKSet(new URL(document.jwks_uri), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
  }

  return {
    async verify(token) {
      // A failed discovery is retried at the next request, not remembered.
      keys ??= discover().catch((error: unknown) => {
        keys = null;
        throw error;
      });
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, await keys, {
          issuer: settings.issuer,
          audience: settings.audience,
          algorithms: settings.algorithms,
          clockTolerance: settings.clockToleranceSeconds,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (error) {
        if (error instanceof joseErrors.JOSEError) throw new OidcRejected(`the OIDC token was refused (${error.code}): ${error.message}`);
        throw error;
      }
      const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 200) : null);
      return {
        issuer: settings.issuer,
        subject: payload.sub!,
        name: text(payload['name']) ?? text(payload['preferred_username']) ?? text(payload['email']) ?? payload.sub!,
        email: text(payload['email']),
        team: payload[settings.teamClaim],
        role: payload[settings.roleClaim],
      };
    },
  };
}
