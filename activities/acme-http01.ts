/**
 * http-01 (RFC 8555 §8.3): GET http://<identifier>/.well-known/acme-challenge/<token> must answer
 * 200 with the key authorization (whitespace around it ignored). Redirects are followed, as §8.3
 * recommends, at most 10, and only to http on the http-01 port or https on the https port (80 and
 * 443 in production); every hop is admitted by the DestinationGuard on its own and connected to
 * only at its checked addresses. An https hop's certificate is not checked: the proof is the body.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { http01Path, type AcmeIdentifier } from '../core/acme-challenge-targets.js';
import { invalid, type ChallengeValidationResult } from '../core/acme-validation-outcome.js';
import type { DestinationHostPolicy } from '../core/destination-hosts.js';
import { admitTarget, connectionFailure, excerpt, type AcmeValidationDeps } from './acme-validation-support.js';
import { pinnedLookup } from './destination-guard.js';

export const MAX_REDIRECTS = 10;
/** A key authorization is under 200 octets; more than this is not one. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface Http01Input {
  /** Canonical (core/acme-challenge-targets.ts challengeIdentifier). */
  identifier: AcmeIdentifier;
  token: string;
  keyAuthorization: string;
  policy: DestinationHostPolicy | undefined;
}

export async function validateHttp01(deps: AcmeValidationDeps, input: Http01Input): Promise<ChallengeValidationResult> {
  const { httpPort, tlsAlpnPort: httpsPort, timeoutMs } = deps.acmeValidation;
  const signal = AbortSignal.timeout(timeoutMs);
  const host = input.identifier.type === 'ip' && isIP(input.identifier.value) === 6 ? `[${input.identifier.value}]` : input.identifier.value;
  let url = new URL(`http://${host}:${httpPort}${http01Path(input.token)}`);
  for (let redirects = 0; ; redirects++) {
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const addresses = await admitTarget(deps, input.policy, url.hostname.replace(/^\[(.*)\]$/, '$1'), port);
    if (!Array.isArray(addresses)) return addresses;

    const where = `GET ${url.href}`;
    let response: IncomingMessage;
    const stage = { tcpConnected: false, tls: url.protocol === 'https:' };
    try {
      response = await get(url, addresses, signal, stage);
    } catch (error) {
      return connectionFailure(signal.aborted ? signal.reason : error, where, stage, timeoutMs);
    }

    const status = response.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status)) {
      response.destroy();
      const location = response.headers.location;
      const next = location && URL.canParse(location, url) ? new URL(location, url) : null;
      if (!next) return invalid('connection', `${where}: redirect ${status} without a valid Location`);
      if (redirects + 1 > MAX_REDIRECTS) return invalid('connection', `${where}: more than ${MAX_REDIRECTS} redirects`);
      const refusal = redirectRefusal(next, httpPort, httpsPort);
      if (refusal) return invalid('connection', `${where}: redirect to ${next.href} refused: ${refusal}`);
      url = next;
      continue;
    }
    if (status !== 200) {
      response.destroy();
      return invalid('unauthorized', `${where}: answered ${status}, not 200 with the key authorization`);
    }

    let body: Buffer | null;
    try {
      body = await readBody(response, MAX_BODY_BYTES);
    } catch (error) {
      // The timeout destroys the socket mid-body, which reads as a reset.
      return connectionFailure(signal.aborted ? signal.reason : error, where, stage, timeoutMs);
    }
    if (body === null) return invalid('incorrectResponse', `${where}: the body is larger than ${MAX_BODY_BYTES / 1024} KiB; it must be the key authorization`);
    const text = body.toString('utf8').trim();
    if (text !== input.keyAuthorization) return invalid('incorrectResponse', `${where}: the body ${excerpt(text)} is not the key authorization`);
    return { status: 'valid' };
  }
}

function redirectRefusal(next: URL, httpPort: number, httpsPort: number): string | null {
  if (next.protocol !== 'http:' && next.protocol !== 'https:') return 'only http and https';
  if (next.username || next.password) return 'credentials in the URL';
  const port = Number(next.port || (next.protocol === 'https:' ? 443 : 80));
  const allowed = next.protocol === 'https:' ? httpsPort : httpPort;
  return port === allowed ? null : `${next.protocol.slice(0, -1)} only on port ${allowed}`;
}

/** One GET to the checked addresses only; resolves with the response head. */
function get(url: URL, addresses: string[], signal: AbortSignal, stage: { tcpConnected: boolean }): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    // A signal that has already fired (the previous hop used up the time) would never emit 'abort' again.
    if (signal.aborted) return reject(signal.reason);
    const options = { method: 'GET', signal, agent: false, lookup: pinnedLookup(addresses), headers: { 'User-Agent': 'Certflow ACME validation', Accept: '*/*' } } as const;
    const request = url.protocol === 'https:' ? httpsRequest(url, { ...options, rejectUnauthorized: false }, resolve) : httpRequest(url, options, resolve);
    request.once('socket', (socket) => socket.once('connect', () => (stage.tcpConnected = true)));
    request.once('error', reject);
    request.end();
  });
}

/** The whole body, or null once it exceeds `limit` (the rest is never read). */
async function readBody(response: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of response) {
      length += (chunk as Buffer).length;
      if (length > limit) return null;
      chunks.push(chunk as Buffer);
    }
  } finally {
    response.destroy();
  }
  return Buffer.concat(chunks);
}
