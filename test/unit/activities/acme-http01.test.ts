import { createServer as createTlsServer } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateChallenge } from '../../../activities/acme-challenge-validation.js';
import { ACME_VALIDATION_UNAVAILABLE } from '../../../core/acme-validation-outcome.js';
import { buildTlsAlpnCertificate } from '../../support/acme-tls-alpn-certificate.js';
import { challengeKeys, closedPort, deps, guard, POLICY, startHttpServer, startTcpServer, transientFailure, type HttpServer, type LocalServer } from './acme-support.js';

let token: string;
let keyAuthorization: string;
const servers: LocalServer[] = [];

beforeAll(async () => {
  ({ token, keyAuthorization } = await challengeKeys());
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serving(body: string | ((path: string) => { status: number; location?: string; body?: string })): Promise<HttpServer> {
  const server = await startHttpServer((request, response) => {
    const answer = typeof body === 'string' ? { status: 200, body } : body(request.url ?? '');
    response.writeHead(answer.status, answer.location ? { Location: answer.location } : {});
    response.end(answer.body ?? '');
  });
  servers.push(server);
  return server;
}

const http01 = (value: string, type: 'dns' | 'ip' = 'dns') => ({ type: 'http-01' as const, identifier: { type, value }, token: '', keyAuthorization: '', policy: POLICY });
const input = (value: string, type: 'dns' | 'ip' = 'dns') => ({ ...http01(value, type), token, keyAuthorization });

describe('http-01 (RFC 8555 §8.3)', () => {
  it('ok/the key authorization at /.well-known/acme-challenge/<token>, trailing newline ignored; the request names the identifier', async () => {
    const server = await serving(`${keyAuthorization}\r\n`);
    expect(await validateChallenge(deps({ httpPort: server.port }), input('www.example.test'))).toEqual({ status: 'valid' });
    expect(server.requests).toEqual([{ path: `/.well-known/acme-challenge/${token}`, host: `www.example.test:${server.port}` }]);
  });

  it('ok/an IP address identifier (RFC 8738) is asked at the address', async () => {
    const server = await serving(keyAuthorization);
    expect(await validateChallenge(deps({ httpPort: server.port }), input('127.0.0.1', 'ip'))).toEqual({ status: 'valid' });
    expect(server.requests[0]!.host).toBe(`127.0.0.1:${server.port}`);
  });

  it('ok/follows redirects on the http-01 port, each host admitted again', async () => {
    const server = await serving((path) =>
      path.startsWith('/.well-known/') ? { status: 302, location: `http://redirect.example.test:${server.port}/hop/1` } : path === '/hop/1' ? { status: 301, location: '/hop/2' } : { status: 200, body: keyAuthorization },
    );
    expect(await validateChallenge(deps({ httpPort: server.port }), input('www.example.test'))).toEqual({ status: 'valid' });
    expect(server.requests.map((request) => `${request.host}${request.path}`)).toEqual([
      `www.example.test:${server.port}/.well-known/acme-challenge/${token}`,
      `redirect.example.test:${server.port}/hop/1`,
      `redirect.example.test:${server.port}/hop/2`,
    ]);
  });

  it('ok/follows a redirect to https on the https port, whatever certificate it serves', async () => {
    const certificate = await buildTlsAlpnCertificate({ names: [{ type: 'dns', value: 'unrelated.test' }], keyAuthorization: null });
    const https = createTlsServer({ cert: certificate.certificatePem, key: certificate.keyPem }, (socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.end(`HTTP/1.1 200 OK\r\nContent-Length: ${keyAuthorization.length}\r\nConnection: close\r\n\r\n${keyAuthorization}`));
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    const httpsPort = (https.address() as { port: number }).port;
    servers.push({ port: httpsPort, close: () => new Promise((resolve) => https.close(() => resolve())) });
    const server = await serving(() => ({ status: 307, location: `https://www.example.test:${httpsPort}/secure` }));
    expect(await validateChallenge(deps({ httpPort: server.port, tlsAlpnPort: httpsPort }), input('www.example.test'))).toEqual({ status: 'valid' });
  });

  it('fail/a wrong body is incorrectResponse, with a printable excerpt of it', async () => {
    const server = await serving(`${token.slice(0, 8)}.wrong\u001b[31m\n`);
    const result = await validateChallenge(deps({ httpPort: server.port }), input('www.example.test'));
    expect(result).toEqual({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:incorrectResponse', detail: expect.stringContaining(`the body "${token.slice(0, 8)}.wrong [31m" is not the key authorization`) } });
  });

  it('fail/the key authorization with something after it is incorrectResponse', async () => {
    const server = await serving(`${keyAuthorization} extra`);
    expect(await validateChallenge(deps({ httpPort: server.port }), input('www.example.test'))).toMatchObject({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:incorrectResponse' } });
  });

  it('fail/a body over 64 KiB is incorrectResponse', async () => {
    const server = await serving(keyAuthorization + ' '.repeat(64 * 1024));
    expect(await validateChallenge(deps({ httpPort: server.port }), input('www.example.test'))).toEqual({
      status: 'invalid',
      problem: { type: 'urn:ietf:params:acme:error:incorrectResponse', detail: expect.stringContaining('larger than 64 KiB') },
    });
  });

  it('fail/a 404 is unauthorized', async () => {
    const server = await serving(() => ({ status: 404, body: keyAuthorization }));
    expect(await validateChallenge(deps({ httpPort: server.port }), input('www.example.test'))).toEqual({
      status: 'invalid',
      problem: { type: 'urn:ietf:params:acme:error:unauthorized', detail: expect.stringContaining('answered 404') },
    });
  });

  it('fail/redirects to another port, another scheme or too often are refused (connection)', async () => {
    const otherPort = await serving(keyAuthorization);
    const cases: [string, RegExp][] = [
      [`http://www.example.test:${otherPort.port}/x`, /http only on port/],
      ['ftp://www.example.test/x', /only http and https/],
      ['https://www.example.test:8443/x', /https only on port 443/],
      [`http://user:pw@www.example.test:PORT/x`, /credentials/],
    ];
    for (const [location, detail] of cases) {
      const server = await serving(() => ({ status: 302, location: location.replace('PORT', String(server.port)) }));
      const result = await validateChallenge(deps({ httpPort: server.port, tlsAlpnPort: 443 }), input('www.example.test'));
      expect(result, location).toEqual({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:connection', detail: expect.stringMatching(detail) } });
    }
    expect(otherPort.requests).toEqual([]);

    const loop = await serving((path) => ({ status: 302, location: `/loop${path.length}` }));
    expect(await validateChallenge(deps({ httpPort: loop.port }), input('www.example.test'))).toEqual({
      status: 'invalid',
      problem: { type: 'urn:ietf:params:acme:error:connection', detail: expect.stringContaining('more than 10 redirects') },
    });
    expect(loop.requests).toHaveLength(11);
  });

  it("fail/a redirect to a host outside the team's zones is unauthorized, and not followed", async () => {
    const server = await serving((path) => (path.startsWith('/.well-known/') ? { status: 302, location: `http://www.other.test:${server.port}/x` } : { status: 200, body: keyAuthorization }));
    expect(await validateChallenge(deps({ httpPort: server.port }), input('www.example.test'))).toMatchObject({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:unauthorized' } });
    expect(server.requests).toHaveLength(1);
  });

  it('fail/connection refused is connection', async () => {
    expect(await validateChallenge(deps({ httpPort: await closedPort() }), input('www.example.test'))).toEqual({
      status: 'invalid',
      problem: { type: 'urn:ietf:params:acme:error:connection', detail: expect.stringContaining('connection refused') },
    });
  });

  it('fail/an answer that is not HTTP is connection', async () => {
    const tcp = await startTcpServer((socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
    servers.push(tcp);
    expect(await validateChallenge(deps({ httpPort: tcp.port }), input('www.example.test'))).toMatchObject({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:connection' } });
  });

  it('fail/a name resolving to a denied address is refused before connecting (connection)', async () => {
    const server = await serving(keyAuthorization);
    const result = await validateChallenge(deps({ httpPort: server.port }), input('metadata.example.test'));
    expect(result).toEqual({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:connection', detail: expect.stringContaining('169.254.169.254') } });
  });

  it('fail/loopback without the operator exception: refused, and the server never sees a request', async () => {
    const server = await serving(keyAuthorization);
    const strict = guard({ services: [], allowedExceptions: [], extraDenied: [] });
    expect(await validateChallenge(deps({ httpPort: server.port }, strict), input('www.example.test'))).toEqual({
      status: 'invalid',
      problem: { type: 'urn:ietf:params:acme:error:connection', detail: expect.stringContaining('loopback') },
    });
    expect(await validateChallenge(deps({ httpPort: server.port }, strict), input('127.0.0.1', 'ip'))).toMatchObject({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:connection' } });
    expect(server.requests).toEqual([]);
  });

  it("fail/a name outside the team's zones, a port it does not allow, or no policy at all is unauthorized", async () => {
    const server = await serving(keyAuthorization);
    const outside = await validateChallenge(deps({ httpPort: server.port }), input('www.other.test'));
    const port = await validateChallenge(deps({ httpPort: server.port }), { ...input('www.example.test'), policy: { ...POLICY, ports: [80] } });
    const none = await validateChallenge(deps({ httpPort: server.port }), { ...input('www.example.test'), policy: undefined });
    for (const result of [outside, port, none]) expect(result).toMatchObject({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:unauthorized' } });
    expect(server.requests).toEqual([]);
  });

  it('fail/a name with no address (NXDOMAIN) is dns', async () => {
    expect(await validateChallenge(deps({ httpPort: 80 }), input('nx.example.test'))).toMatchObject({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:dns' } });
  });

  it('transient/a failing resolver is retryable, carrying a dns problem', async () => {
    const failure = await transientFailure(validateChallenge(deps({ httpPort: 80 }), input('flaky.example.test')));
    expect(failure).toMatchObject({ type: ACME_VALIDATION_UNAVAILABLE, nonRetryable: false, problem: { type: 'urn:ietf:params:acme:error:dns' } });
  });

  it('transient/a server that never answers times out, retryably, carrying a connection problem', async () => {
    const silent = await startTcpServer();
    servers.push(silent);
    const started = Date.now();
    const failure = await transientFailure(validateChallenge(deps({ httpPort: silent.port, timeoutMs: 300 }), input('www.example.test')));
    expect(failure).toMatchObject({ type: ACME_VALIDATION_UNAVAILABLE, nonRetryable: false, problem: { type: 'urn:ietf:params:acme:error:connection', detail: expect.stringContaining('no answer within 0.3 s') } });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('transient/a body that stops arriving times out too', async () => {
    const server = await startHttpServer((_request, response) => {
      response.writeHead(200, { 'Content-Length': '1000' });
      response.write(keyAuthorization.slice(0, 10));
    });
    servers.push(server);
    const failure = await transientFailure(validateChallenge(deps({ httpPort: server.port, timeoutMs: 300 }), input('www.example.test')));
    expect(failure).toMatchObject({ type: ACME_VALIDATION_UNAVAILABLE, problem: { type: 'urn:ietf:params:acme:error:connection' } });
  });

  it('input/a wildcard, a bad token or a key authorization of another token fail non-retryably as InvalidRequest', async () => {
    const cases = [
      { ...input('*.example.test') },
      { ...input('www.example.test'), token: 'short' },
      { ...input('www.example.test'), keyAuthorization: `x${keyAuthorization}` },
      { ...http01('www.example.test'), token, keyAuthorization, type: 'http-02' as never },
    ];
    for (const bad of cases) {
      const failure = await validateChallenge(deps({}), bad).catch((error: unknown) => error);
      expect(failure).toMatchObject({ type: 'InvalidRequest', nonRetryable: true });
    }
  });
});
