/**
 * The ACME server (RFC 8555, with RFC 9773 renewal information), mounted at /acme. Every answer
 * carries a fresh Replay-Nonce and a Link to the directory; every error is an ACME problem document.
 */
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { pkiRoutes } from '../routes/pki.js';
import { accountOrders, accountResource, keyChange, newAccount } from './accounts.js';
import { downloadCertificate, revokeCert } from './certificates.js';
import { acmeUrls, nonceMinter, type AcmeDeps } from './context.js';
import { finalizeOrder } from './finalize.js';
import { MAX_JWS_BYTES } from './jws.js';
import { authorizationResource, challengeResource, newOrder, orderResource } from './orders.js';
import { isUnavailable } from '../unavailable.js';
import { AcmeProblem } from './problem.js';
import { renewalExplanation, renewalInfo } from './renewal-info.js';

export function acmeApp(deps: AcmeDeps, log: (message: string, error?: unknown) => void) {
  const app = new Hono();

  app.use('*', async (c, next) => {
    await next();
    c.header('Link', `<${acmeUrls(c).directory}>;rel="index"`, { append: true });
    if (c.req.method === 'POST' || c.req.method === 'HEAD' || c.req.path.endsWith('/new-nonce')) {
      // A nonce for the client's next request (minted, nothing stored: api/acme/nonces.ts).
      c.header('Replay-Nonce', nonceMinter(deps).mint(deps.now()));
    }
    c.header('Cache-Control', 'no-store');
  });

  // Before anything reads the body: a body over the limit is cut off while it streams in.
  const streamedBodyLimit = bodyLimit({
    maxSize: MAX_JWS_BYTES,
    onError: () => {
      throw new AcmeProblem('malformed', `the request body must not exceed ${MAX_JWS_BYTES} bytes`, { status: 413 });
    },
  });
  app.use('*', (c, next) => {
    // No body, or its length declared: decided without touching the body. (bodyLimit looks at `body` first,
    // which makes @hono/node-server build a web Request and stream for each request: ~15 % of the API's CPU.)
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(declared) > MAX_JWS_BYTES) throw new AcmeProblem('malformed', `the request body must not exceed ${MAX_JWS_BYTES} bytes`, { status: 413 });
      return next();
    }
    return streamedBodyLimit(c, next);
  });
  app.get('/directory', (c) => c.json(directory(c, deps)));
  // HEAD answers `Content-Length: 0`: without a length Node's server closes the connection after a bodiless
  // answer, and a client that asks for a nonce before every request (acme-client) then pays a TLS handshake each time.
  app.on(['HEAD', 'GET'], '/new-nonce', (c) => (c.req.method === 'HEAD' ? c.body(null, 200, { 'Content-Length': '0' }) : c.body(null, 204)));
  app.post('/new-account', (c) => newAccount(c, deps));
  app.post('/acct/:id', (c) => accountResource(c, deps));
  app.post('/acct/:id/orders', (c) => accountOrders(c, deps));
  app.post('/key-change', (c) => keyChange(c, deps));
  app.post('/new-order', (c) => newOrder(c, deps));
  app.post('/order/:id', (c) => orderResource(c, deps));
  app.post('/order/:id/finalize', (c) => finalizeOrder(c, deps));
  app.post('/authz/:id', (c) => authorizationResource(c, deps));
  app.post('/chall/:id', (c) => challengeResource(c, deps));
  app.post('/cert/:id', (c) => downloadCertificate(c, deps));
  app.post('/revoke-cert', (c) => revokeCert(c, deps));
  app.get('/renewal-info/:certId', (c) => renewalInfo(c, deps));
  app.get('/renewal-explanation/:certId', (c) => renewalExplanation(c, deps));

  app.notFound((c) => problem(c, new AcmeProblem('malformed', `no ACME resource at ${c.req.method} ${c.req.path}`, { status: 404 })));
  app.onError((error, c) => {
    if (error instanceof AcmeProblem) return problem(c, error);
    if (isUnavailable(error)) return problem(c, new AcmeProblem('serverInternal', 'the database or the workflow engine is not reachable; retry later', { status: 503, retryAfterSeconds: 5 }));
    log(`unhandled ACME error on ${c.req.method} ${c.req.path}`, error);
    return problem(c, new AcmeProblem('serverInternal', 'an unexpected error occurred; it has been logged'));
  });
  return app;
}

/** What the ACME listener serves: the protocol under /acme, and the roots clients trust at /pki/roots.pem. */
export function acmeRoot(deps: AcmeDeps, log: (message: string, error?: unknown) => void): Hono {
  const root = new Hono();
  root.route('/acme', acmeApp(deps, log));
  root.route('/pki', pkiRoutes(deps));
  root.notFound((c) => problem(c, new AcmeProblem('malformed', `no resource at ${c.req.method} ${c.req.path}; the ACME directory is /acme/directory`, { status: 404 })));
  return root;
}

function directory(c: Context, deps: AcmeDeps) {
  const urls = acmeUrls(c);
  return {
    newNonce: urls.newNonce,
    newAccount: urls.newAccount,
    newOrder: urls.newOrder,
    revokeCert: urls.revokeCert,
    keyChange: urls.keyChange,
    renewalInfo: urls.renewalInfo,
    meta: {
      externalAccountRequired: !deps.acme.allowUnboundAccounts,
      website: `${new URL(c.req.url).origin}/`,
    },
  };
}

function problem(c: Context, error: AcmeProblem): Response {
  if (error.extras.retryAfterSeconds !== undefined) c.header('Retry-After', String(error.extras.retryAfterSeconds));
  return c.body(JSON.stringify(error.toBody()), error.status as 400, { 'Content-Type': 'application/problem+json' });
}
