/** `/v1/issuers`: the authenticated issuer inventory (the public /pki files are in pki.ts). */
import { Hono } from 'hono';
import { listIssuers } from '../../db/issuers.js';
import type { ApiDeps, AppEnv } from '../deps.js';
import { issuerView } from '../views.js';

export function issuerRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => c.json((await listIssuers(deps.db)).map(issuerView)));
  return app;
}
