import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateChallenge } from '../../../activities/acme-challenge-validation.js';
import { ACME_VALIDATION_UNAVAILABLE } from '../../../core/acme-validation-outcome.js';
import { buildTlsAlpnCertificate, type TlsAlpnCertificateSpec } from '../../support/acme-tls-alpn-certificate.js';
import { challengeKeys, closedPort, deps, guard, POLICY, startTcpServer, startTlsServer, transientFailure, type LocalServer, type TlsServer } from './acme-support.js';

let token: string;
let keyAuthorization: string;
const servers: LocalServer[] = [];

beforeAll(async () => {
  ({ token, keyAuthorization } = await challengeKeys());
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const NAME = { type: 'dns' as const, value: 'www.example.test' };
const input = (identifier: { type: 'dns' | 'ip'; value: string } = NAME) => ({ type: 'tls-alpn-01' as const, identifier, token, keyAuthorization, policy: POLICY });

async function presenting(spec: Partial<TlsAlpnCertificateSpec>, alpn: string[] | null = ['acme-tls/1']): Promise<TlsServer> {
  const certificate = await buildTlsAlpnCertificate({ names: [NAME], keyAuthorization, ...spec });
  const server = await startTlsServer(certificate, alpn);
  servers.push(server);
  return server;
}

const incorrect = (detail: string) => ({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:incorrectResponse', detail: expect.stringContaining(detail) } });

describe('tls-alpn-01 (RFC 8737)', () => {
  it('ok/negotiates acme-tls/1 with SNI the name and finds the validation certificate', async () => {
    const server = await presenting({});
    expect(await validateChallenge(deps({ tlsAlpnPort: server.port }), input())).toEqual({ status: 'valid' });
    expect(server.sniSeen).toEqual(['www.example.test']);
  });

  it('ok/an IP address identifier: SNI is its reverse-mapping name, the certificate names the address (RFC 8738 §6)', async () => {
    const server = await presenting({ names: [{ type: 'ip', value: '127.0.0.1' }] });
    expect(await validateChallenge(deps({ tlsAlpnPort: server.port }), input({ type: 'ip', value: '127.0.0.1' }))).toEqual({ status: 'valid' });
    expect(server.sniSeen).toEqual(['1.0.0.127.in-addr.arpa']);
  });

  it('fail/no acmeIdentifier extension is incorrectResponse', async () => {
    const server = await presenting({ keyAuthorization: null });
    expect(await validateChallenge(deps({ tlsAlpnPort: server.port }), input())).toEqual(incorrect('no acmeIdentifier extension'));
  });

  it('fail/a non-critical acmeIdentifier is incorrectResponse', async () => {
    const server = await presenting({ critical: false });
    expect(await validateChallenge(deps({ tlsAlpnPort: server.port }), input())).toEqual(incorrect('must be critical'));
  });

  it('fail/the digest of another key authorization is incorrectResponse', async () => {
    const server = await presenting({ keyAuthorization: `${keyAuthorization}x` });
    expect(await validateChallenge(deps({ tlsAlpnPort: server.port }), input())).toEqual(incorrect('does not hold SHA-256 of the expected key authorization'));
  });

  it('fail/two subjectAltNames are incorrectResponse', async () => {
    const server = await presenting({ names: [NAME, { type: 'dns', value: 'other.example.test' }] });
    expect(await validateChallenge(deps({ tlsAlpnPort: server.port }), input())).toEqual(incorrect('exactly one name'));
  });

  it('fail/a server that offers other protocols, or no ALPN at all, is tls', async () => {
    for (const alpn of [['h2', 'http/1.1'], null]) {
      const server = await presenting({}, alpn);
      expect(await validateChallenge(deps({ tlsAlpnPort: server.port }), input()), String(alpn)).toMatchObject({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:tls' } });
    }
  });

  it('fail/a server that is not TLS is tls', async () => {
    const tcp = await startTcpServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    servers.push(tcp);
    expect(await validateChallenge(deps({ tlsAlpnPort: tcp.port }), input())).toMatchObject({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:tls' } });
  });

  it('fail/connection refused is connection', async () => {
    expect(await validateChallenge(deps({ tlsAlpnPort: await closedPort() }), input())).toEqual({
      status: 'invalid',
      problem: { type: 'urn:ietf:params:acme:error:connection', detail: expect.stringContaining('connection refused') },
    });
  });

  it('fail/a denied address is refused before connecting (connection); the server never sees a handshake', async () => {
    const server = await presenting({});
    const strict = guard({ services: [], allowedExceptions: [], extraDenied: [] });
    expect(await validateChallenge(deps({ tlsAlpnPort: server.port }, strict), input())).toMatchObject({ status: 'invalid', problem: { type: 'urn:ietf:params:acme:error:connection' } });
    expect(await validateChallenge(deps({ tlsAlpnPort: server.port }), input({ type: 'dns', value: 'metadata.example.test' }))).toMatchObject({
      status: 'invalid',
      problem: { type: 'urn:ietf:params:acme:error:connection' },
    });
    expect(server.sniSeen).toEqual([]);
  });

  it("fail/a name outside the team's zones is unauthorized", async () => {
    const server = await presenting({});
    expect(await validateChallenge(deps({ tlsAlpnPort: server.port }), input({ type: 'dns', value: 'www.other.test' }))).toMatchObject({
      status: 'invalid',
      problem: { type: 'urn:ietf:params:acme:error:unauthorized' },
    });
    expect(server.sniSeen).toEqual([]);
  });

  it('transient/a server that accepts and never completes the handshake times out, retryably', async () => {
    const silent = await startTcpServer();
    servers.push(silent);
    const failure = await transientFailure(validateChallenge(deps({ tlsAlpnPort: silent.port, timeoutMs: 300 }), input()));
    expect(failure).toMatchObject({ type: ACME_VALIDATION_UNAVAILABLE, nonRetryable: false, problem: { type: 'urn:ietf:params:acme:error:connection' } });
  });

  it('input/a wildcard fails non-retryably', async () => {
    const failure = await validateChallenge(deps({}), input({ type: 'dns', value: '*.example.test' })).catch((error: unknown) => error);
    expect(failure).toMatchObject({ type: 'InvalidRequest', nonRetryable: true });
  });
});
