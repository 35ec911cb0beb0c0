/**
 * `/v1/auth`: what a CLI needs to log in (`GET /v1/auth/oidc`, unauthenticated: the OIDC issuer, the
 * audience and the public client id of the CLI, for the device authorization flow of RFC 8628), and who
 * a token stands for (`GET /v1/auth/whoami`, authenticated: `certflow login` checks a new token with it).
 */
import { Hono } from 'hono';
import { findTeam } from '../../db/teams.js';
import type { ApiDeps, AppEnv } from '../deps.js';
import { problems } from '../problem.js';

/** Before the API-token middleware: anyone may ask how to log in. */
export function authDiscoveryRoutes(deps: ApiDeps) {
  const app = new Hono();
  app.get('/oidc', (c) => {
    if (!deps.oidcLogin) {
      throw problems.notFound(
        'this API offers no OIDC login: it needs CERTFLOW_OIDC_ISSUER, CERTFLOW_OIDC_AUDIENCE and CERTFLOW_OIDC_CLI_CLIENT_ID; log in with an API token instead',
      );
    }
    const { issuer, audience, cliClientId } = deps.oidcLogin;
    return c.json({ issuer, audience, clientId: cliClientId, flow: 'urn:ietf:params:oauth:grant-type:device_code' });
  });
  return app;
}

/** After the API-token middleware. */
export function authSessionRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();
  app.get('/whoami', async (c) => {
    const principal = c.get('principal');
    const team = principal.teamId ? await findTeam(deps.db, principal.teamId) : null;
    return c.json({
      principalId: principal.principalId,
      teamId: principal.teamId,
      teamName: team?.name ?? null,
      role: principal.role,
      via: principal.tokenId.startsWith('oidc:') ? 'oidc' : 'api-token',
    });
  });
  return app;
}
