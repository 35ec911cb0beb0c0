/** `/healthz`: the process is up. `/readyz`: Postgres and Temporal both answer. */
import { Hono } from 'hono';
import type { ApiDeps } from '../deps.js';
import { problems } from '../problem.js';

export function healthRoutes(deps: ApiDeps) {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks = await deps.checkReadiness();
    if (!checks.postgres || !checks.temporal) {
      const down = Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => name);
      throw problems.unavailable(`not ready: ${down.join(' and ')} did not answer`);
    }
    return c.json({ status: 'ready', checks });
  });
  return app;
}
