/**
 * The HTTP API. `createApp(deps)` builds it from its dependencies so tests can drive it with
 * `app.request` against real services. Every error leaves as application/problem+json.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { WorkflowNotFoundError } from '@temporalio/client';
import { authenticate } from './auth.js';
import { authDiscoveryRoutes, authSessionRoutes } from './routes/auth.js';
import { rateLimitPerToken } from './rate-limit.js';
import type { ApiDeps, AppEnv } from './deps.js';
import { ProblemError, problemResponse, problems } from './problem.js';
import { acmeEabKeyRoutes } from './routes/acme-eab-keys.js';
import { inventoryCertificateRoutes, inventoryTeamRoutes } from './routes/inventory.js';
import { teamContactRoutes } from './routes/team-contacts.js';
import { agentApiRoutes, agentRoutes } from './routes/agents.js';
import { approvalRoutes } from './routes/approvals.js';
import { bulkReissueRoutes } from './routes/bulk-reissues.js';
import { errorRoutes } from './routes/errors.js';
import { certificateRoutes } from './routes/certificates.js';
import { clusterRoutes } from './routes/clusters.js';
import { healthRoutes } from './routes/health.js';
import { issuerRoutes } from './routes/issuers.js';
import { issuerCompromiseRoutes } from './routes/issuer-compromise.js';
import { pkiRoutes } from './routes/pki.js';
import { principalRoutes } from './routes/principals.js';
import { teamAccessRoutes, tokenRoutes } from './routes/tokens.js';
import { teamRoutes } from './routes/teams.js';
import { isUnavailable } from './unavailable.js';
import { traceRequests } from './request-tracing.js';
import { refuseNulInPath } from './validation.js';
import { metricsHandler } from '../metrics/http.js';
import { recordHttpRequests } from './request-metrics.js';
import { dashboardRoutes } from './ui/routes.js';

const MAX_BODY_BYTES = 256 * 1024;
/** Inventory imports carry up to MAX_IMPORT_CERTIFICATES PEM certificates (a few KiB each). */
const MAX_IMPORT_BODY_BYTES = 4 * 1024 * 1024;
const IMPORT_PATH = /^\/v1\/teams\/[^/]+\/imports\/?$/;

export function createApp(deps: ApiDeps, log: (message: string, error?: unknown) => void = console.error) {
  const app = new Hono<AppEnv>();
  if (deps.tracer) app.use('*', traceRequests(deps.tracer));

  if (deps.metrics) {
    app.use('*', recordHttpRequests(deps.metrics.api));
    app.get('/metrics', metricsHandler(deps.metrics.registry, deps.metrics.access));
  }
  app.route('/', healthRoutes(deps));
  app.route('/pki', pkiRoutes(deps));

  // Agents authenticate with their own tokens, so their endpoints sit before the API-token middleware.
  const agentApi = new Hono();
  agentApi.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => { throw problems.payloadTooLarge(MAX_BODY_BYTES); } }));
  agentApi.use('*', refuseNulInPath);
  agentApi.route('/', agentApiRoutes(deps));
  app.route('/v1/agent', agentApi);
  // How to log in is asked before logging in: no token.
  app.route('/v1/auth', authDiscoveryRoutes(deps));

  const v1 = new Hono<AppEnv>();
  const defaultLimit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: () => { throw problems.payloadTooLarge(MAX_BODY_BYTES); } });
  const importLimit = bodyLimit({ maxSize: MAX_IMPORT_BODY_BYTES, onError: () => { throw problems.payloadTooLarge(MAX_IMPORT_BODY_BYTES); } });
  v1.use('*', (c, next) => (IMPORT_PATH.test(c.req.path) ? importLimit(c, next) : defaultLimit(c, next)));
  v1.use('*', refuseNulInPath);
  v1.use('*', authenticate(deps));
  if (deps.rateLimit) v1.use('*', rateLimitPerToken(deps.rateLimit));
  v1.route('/certificates', certificateRoutes(deps));
  v1.route('/certificates', approvalRoutes(deps));
  v1.route('/certificates', inventoryCertificateRoutes(deps));
  v1.route('/teams', teamRoutes(deps));
  v1.route('/teams', teamAccessRoutes(deps));
  v1.route('/teams', acmeEabKeyRoutes(deps));
  v1.route('/teams', teamContactRoutes(deps));
  v1.route('/teams', inventoryTeamRoutes(deps));
  v1.route('/principals', principalRoutes(deps));
  v1.route('/tokens', tokenRoutes(deps));
  v1.route('/issuers', issuerRoutes(deps));
  v1.route('/issuers', issuerCompromiseRoutes(deps));
  v1.route('/agents', agentRoutes(deps));
  v1.route('/bulk-reissues', bulkReissueRoutes(deps));
  v1.route('/clusters', clusterRoutes(deps));
  v1.route('/errors', errorRoutes(deps));
  v1.route('/auth', authSessionRoutes(deps));
  app.route('/v1', v1);
  // The dashboard calls the routes above in-process with its session's token (api/ui/api-client.ts).
  app.route('/ui', dashboardRoutes(deps, (path, init) => app.request(path, init)));

  app.notFound((c) => problemResponse(c, problems.notFound(`no route for ${c.req.method} ${c.req.path}`)));
  app.onError((error, c) => {
    if (error instanceof ProblemError) return problemResponse(c, error);
    if (error instanceof HTTPException) {
      return problemResponse(c, new ProblemError(error.status as 400, 'http-error', 'Request failed', error.message || 'the request failed'));
    }
    if (error instanceof WorkflowNotFoundError) {
      return problemResponse(c, problems.conflict("the certificate's lifecycle workflow is not running; it has ended (revoked or failed)"));
    }
    if (isUnavailable(error)) {
      return problemResponse(c, problems.unavailable('the workflow engine or the database is not reachable; retry later (a request with an Idempotency-Key, or a revocation, is safe to repeat)'));
    }
    log(`unhandled error on ${c.req.method} ${c.req.path}`, error);
    return problemResponse(c, new ProblemError(500, 'internal', 'Internal error', 'an unexpected error occurred; it has been logged'));
  });
  return app;
}
