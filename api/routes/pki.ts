/**
 * `/pki`: what relying parties fetch, public and unauthenticated — the trust bundle, issuer
 * certificates (AIA caIssuers), CRLs (CRL distribution points) and OCSP (RFC 6960, GET and POST).
 *
 * The API holds no keys: CRLs and OCSP responses are signed by the worker (activities/publish-*.ts)
 * and stored; this module only finds and serves them. OCSP answers, per RFC 6960 / RFC 5019:
 *  - successful: the stored response for the request's single CertID (SHA-1 or SHA-256). Stored
 *    responses are pre-signed, so they carry no nonce (RFC 8954 lets a responder ignore it).
 *  - malformedRequest: not a DER OCSPRequest, or more than one CertID (RFC 5019 §2.1.1).
 *  - unauthorized: the CertID names no Certflow issuer (unknown issuer or unsupported hash), or a
 *    serial the issuer never signed — RFC 5019 §2.2.3; a signed `unknown` would need a key here.
 *  - tryLater: the certificate is Certflow's but its response is not signed yet, or has expired
 *    (the worker is behind).
 * HTTP-level problems (unknown issuer id, no CRL published yet) are application/problem+json.
 */
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { issuerHashes, OcspRequestError, ocspErrorResponse, parseOcspRequest, certIdMatchesIssuer, type CertId, type IssuerHashes } from '../../ca/ocsp.js';
import { pemToDer } from '../../ca/pem.js';
import type { Database } from '../../db/database.js';
import { findIssuer, listIssuers, listTrustedRoots } from '../../db/issuers.js';
import { findCrl, findOcspResponse, issuerSignedSerial } from '../../db/revocation.js';
import { snakeCase } from '../../core/metrics-labels.js';
import type { OcspResponseStatus } from '../../metrics/api-metrics.js';
import type { ApiDeps } from '../deps.js';
import { problems } from '../problem.js';

/** OCSP requests are a few hundred bytes; RFC 5019 clients send one CertID. */
const MAX_OCSP_REQUEST_BYTES = 8 * 1024;
/** How long caches may keep a CRL: it is republished on every revocation, so keep this short. */
const CRL_MAX_AGE_SECONDS = 300;
const ISSUER_FILE = /^([A-Za-z0-9_-]+)\.(crt|crl)$/;

export function pkiRoutes(deps: ApiDeps) {
  const app = new Hono();
  const ocsp = ocspResponder(deps.db, deps.now);

  app.get('/roots.pem', async (c) => {
    const roots = await listTrustedRoots(deps.db);
    const bundle = roots.map((root) => root.certificatePem.trim()).join('\n');
    return c.body(bundle ? `${bundle}\n` : '', 200, { 'Content-Type': 'application/pem-certificate-chain' });
  });

  app.get('/issuers/:file', async (c) => {
    const match = ISSUER_FILE.exec(c.req.param('file'));
    if (!match) throw problems.notFound(`no such file: ${c.req.param('file')} (expected <issuer id>.crt or <issuer id>.crl)`);
    const [, issuerId, kind] = match as unknown as [string, string, 'crt' | 'crl'];
    const issuer = await findIssuer(deps.db, issuerId);
    if (!issuer) throw problems.notFound(`issuer "${issuerId}" does not exist`);
    if (kind === 'crt') {
      return c.body(new Uint8Array(pemToDer(issuer.certificatePem)), 200, { 'Content-Type': 'application/pkix-cert', 'Cache-Control': 'public, max-age=86400' });
    }
    const crl = await findCrl(deps.db, issuerId);
    if (!crl) {
      c.header('Retry-After', '60');
      throw problems.unavailable(`no CRL has been published for issuer "${issuerId}" yet; the worker publishes one at start-up and hourly`);
    }
    return c.body(new Uint8Array(crl.crlDer), 200, {
      'Content-Type': 'application/pkix-crl',
      'Cache-Control': `public, max-age=${CRL_MAX_AGE_SECONDS}, no-transform`,
      'Last-Modified': crl.thisUpdate.toUTCString(),
      ETag: `"${issuerId}-${crl.crlNumber.toString()}"`,
    });
  });

  const counted = (status: OcspResponseStatus) => deps.metrics?.api.ocspResponses.inc({ status });
  app.post('/ocsp', bodyLimit({ maxSize: MAX_OCSP_REQUEST_BYTES, onError: (c) => (counted('malformed_request'), ocspBody(c, ocspErrorResponse('malformedRequest'))) }), async (c) => {
    const answer = await ocsp(Buffer.from(await c.req.arrayBuffer()));
    counted(answer.status);
    return ocspBody(c, answer.der);
  });

  // RFC 6960 appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER OCSPRequest}. The
  // base64 text may contain '/', so everything after /ocsp/ is the request.
  app.get('/ocsp/:request{.+}', async (c) => {
    const path = new URL(c.req.url).pathname;
    const encoded = path.slice(path.indexOf('/ocsp/') + '/ocsp/'.length);
    let der: Buffer;
    try {
      der = Buffer.from(decodeURIComponent(encoded), 'base64');
    } catch {
      counted('malformed_request');
      return ocspBody(c, ocspErrorResponse('malformedRequest'));
    }
    const answer = await ocsp(der);
    counted(answer.status);
    if (!answer.stored) return ocspBody(c, answer.der);
    // RFC 5019 §6.2: GET responses are cacheable until nextUpdate.
    const now = deps.now();
    const maxAge = Math.max(0, Math.floor((answer.stored.nextUpdate.getTime() - now.getTime()) / 1000));
    return ocspBody(c, answer.der, {
      'Cache-Control': `max-age=${maxAge}, public, no-transform, must-revalidate`,
      'Last-Modified': answer.stored.thisUpdate.toUTCString(),
      Expires: answer.stored.nextUpdate.toUTCString(),
      ETag: `"${createHash('sha1').update(answer.der).digest('hex')}"`,
    });
  });

  return app;
}

function ocspBody(c: Context, der: Uint8Array, headers: Record<string, string> = {}): Response {
  return c.body(new Uint8Array(der), 200, { 'Content-Type': 'application/ocsp-response', ...headers });
}

interface OcspAnswer {
  der: Buffer;
  /** For the metrics: the stored response's certStatus, or the error status answered. */
  status: OcspResponseStatus;
  /** Set when a stored, signed response is served. */
  stored: { thisUpdate: Date; nextUpdate: Date } | null;
}

/** Finds the answer to a DER OCSP request in the database (see the module comment for the choices). */
function ocspResponder(db: Database, now: () => Date) {
  // Issuer certificates never change, so their CertID hashes are computed once per issuer.
  const hashesById = new Map<string, IssuerHashes>();
  const findIssuerFor = async (certId: CertId): Promise<string | null> => {
    if (!certId.hashAlgorithm) return null;
    for (const issuer of await listIssuers(db)) {
      let hashes = hashesById.get(issuer.id);
      if (!hashes) {
        hashes = issuerHashes(issuer.certificatePem);
        hashesById.set(issuer.id, hashes);
      }
      if (certIdMatchesIssuer(certId, hashes)) return issuer.id;
    }
    return null;
  };

  return async (der: Buffer): Promise<OcspAnswer> => {
    const refuse = (status: 'malformedRequest' | 'unauthorized' | 'tryLater'): OcspAnswer => ({ der: ocspErrorResponse(status), stored: null, status: snakeCase(status) as OcspResponseStatus });
    let certIds: CertId[];
    try {
      certIds = parseOcspRequest(der).certIds;
    } catch (error) {
      if (error instanceof OcspRequestError) return refuse('malformedRequest');
      throw error;
    }
    if (certIds.length !== 1) return refuse('malformedRequest');
    const certId = certIds[0]!;
    const issuerId = await findIssuerFor(certId);
    if (!issuerId) return refuse('unauthorized');
    const stored = await findOcspResponse(db, issuerId, [certId.serial, `00${certId.serial}`], certId.hashAlgorithm!);
    if (stored && stored.nextUpdate.getTime() > now().getTime()) {
      return { der: stored.responseDer, stored: { thisUpdate: stored.thisUpdate, nextUpdate: stored.nextUpdate }, status: stored.certStatus };
    }
    if (stored || (await issuerSignedSerial(db, issuerId, certId.serial))) return refuse('tryLater');
    return refuse('unauthorized');
  };
}
