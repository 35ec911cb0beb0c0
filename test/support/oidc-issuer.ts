/**
 * A real OpenID Connect provider on loopback (npm `oidc-provider`, standards-compliant, in memory):
 * discovery document, JWKS, and JWT access tokens from the client-credentials grant. Each client is
 * one subject; `claims` adds the team and role claims Certflow reads to its access tokens.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface OidcClient {
  id: string;
  /** Extra claims of this client's access tokens (e.g. certflow_team, certflow_role). */
  claims: Record<string, unknown>;
  /** Access-token lifetime in seconds (default 600). */
  ttlSeconds?: number;
}

export interface OidcIssuer {
  issuer: string;
  /** A JWT access token for the client, for `audience` (default: the one the issuer was made for). */
  accessToken(clientId: string, audience?: string): Promise<string>;
  close(): Promise<void>;
}

const SECRET = 'loopback-test-secret-'.repeat(3);

export async function startOidcIssuer(options: { audience: string; otherAudiences?: string[]; clients: OidcClient[]; alg?: 'RS256' | 'ES256' }): Promise<OidcIssuer> {
  const alg = options.alg ?? 'ES256';
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // An RS256 key too: oidc-provider signs its own artifacts (ID tokens) with RS256 by default.
  const keys = await Promise.all(
    (['RS256', 'ES256'] as const).map(async (keyAlg) => ({ ...(await exportJWK((await generateKeyPair(keyAlg, { extractable: true })).privateKey)), kid: `test-${keyAlg.toLowerCase()}`, alg: keyAlg, use: 'sig' })),
  );
  const clients = new Map(options.clients.map((client) => [client.id, client]));
  const audiences = new Set([options.audience, ...(options.otherAudiences ?? [])]);

  const provider = new Provider(issuer, {
    jwks: { keys },
    clients: options.clients.map((client) => ({ client_id: client.id, client_secret: SECRET, grant_types: ['client_credentials'], redirect_uris: [], response_types: [] })),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => options.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (!audiences.has(resource)) throw new Error(`unknown resource ${resource}`);
          return { scope: 'api', audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg } } };
        },
      },
    },
    ttl: { ClientCredentials: (_ctx: unknown, token: { clientId: string }) => clients.get(token.clientId)?.ttlSeconds ?? 600 },
    extraTokenClaims: (_ctx: unknown, token: { clientId: string }) => clients.get(token.clientId)?.claims ?? {},
  });
  server.on('request', provider.callback());

  return {
    issuer,
    async accessToken(clientId, audience = options.audience) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${SECRET}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api', resource: audience }),
      });
      const body = (await response.json()) as { access_token?: string; error_description?: string };
      if (!response.ok || !body.access_token) throw new Error(`token request for ${clientId} failed: ${response.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
