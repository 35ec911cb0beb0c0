/**
 * A real OpenID Connect provider on loopback (npm `oidc-provider`) for interactive logins: the device
 * authorization flow (RFC 8628) for public clients (no secret), its own device verification and
 * confirmation pages, and its development login/consent pages (any login name is an account). Each
 * account's access tokens carry the claims given for it (e.g. certflow_team, certflow_role) and are
 * JWTs for the audience; refresh tokens are issued to clients allowed the refresh grant.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface DeviceClient {
  id: string;
  /** How long a device code may wait for its confirmation (default 600 s). */
  deviceCodeTtlSeconds?: number;
}

export interface OidcDeviceIssuer {
  issuer: string;
  close(): Promise<void>;
}

export async function startOidcDeviceIssuer(options: {
  audience: string;
  clients: DeviceClient[];
  /** Claims of each account's access tokens, by login name. */
  accounts: Record<string, Record<string, unknown>>;
  accessTokenTtlSeconds: number;
}): Promise<OidcDeviceIssuer> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keys = await Promise.all(
    (['RS256', 'ES256'] as const).map(async (alg) => ({ ...(await exportJWK((await generateKeyPair(alg, { extractable: true })).privateKey)), kid: `device-${alg.toLowerCase()}`, alg, use: 'sig' })),
  );
  const clients = new Map(options.clients.map((client) => [client.id, client]));

  const provider = new Provider(issuer, {
    jwks: { keys },
    clients: options.clients.map((client) => ({
      client_id: client.id,
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
      redirect_uris: [],
      response_types: [],
    })),
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => options.audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== options.audience) throw new Error(`unknown resource ${resource}`);
          return { scope: 'api', audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: options.accessTokenTtlSeconds, jwt: { sign: { alg: 'ES256' } } };
        },
      },
    },
    ttl: {
      DeviceCode: (_ctx: unknown, _code: unknown, client: { clientId: string }) => clients.get(client.clientId)?.deviceCodeTtlSeconds ?? 600,
      RefreshToken: 3600,
    },
    // The IdP's policy for this CLI: a refresh token with every device login (without asking for offline_access consent).
    issueRefreshToken: (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    extraTokenClaims: (_ctx: unknown, token: { accountId?: string }) => (token.accountId ? (options.accounts[token.accountId] ?? {}) : {}),
  });
  server.on('request', provider.callback());
  return { issuer, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
