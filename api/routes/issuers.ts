/** `/v1/issuers` (authenticated inventory) and `/pki/roots.pem` (the public trust bundle). */
import { Hono } from 'hono';
import { listIssuers, listTrustedRoots } from '../../db/issuers.js';
import type { ApiDeps, AppEnv } from '../deps.js';
import { issuerView } from '../views.js';

export function issuerRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => c.json((await listIssuers(deps.db)).map(issuerView)));
  return app;
}

export function pkiRoutes(deps: ApiDeps) {
  const app = new Hono();
  app.get('/roots.pem', async (c) => {
    const roots = await listTrustedRoots(deps.db);
    const bundle = roots.map((root) => root.certificatePem.trim()).join('\n');
    return c.body(bundle ? `${bundle}\n` : '', 200, { 'Content-Type': 'application/pem-certificate-chain' });
  });
  return app;
}
