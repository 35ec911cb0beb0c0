import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deliverToWebhook, postWebhook, webhookDeliveryId, type WebhookPayload } from '../../../activities/deliver-to-webhook.js';
import type { DeliveryContext } from '../../../activities/delivery-context.js';
import type { ActivityDeps } from '../../../activities/deps.js';
import { DestinationGuard } from '../../../activities/destination-guard.js';
import { verifyWebhookSignature } from '../../../activities/webhook-signature.js';
import { deriveSecretsKey, destinationSecretId, sealPrivateKey } from '../../../ca/key-encryption.js';
import { sealDestinationSecret, workerSealingKey } from '../../../ca/destination-secrets.js';
import type { CertificateRow } from '../../../db/certificates.js';
import type { VersionRow } from '../../../db/versions.js';

const SECRET = 'whsec_unit-test';
/** The receivers listen on 127.0.0.1: the address the destination guard would have admitted. */
const LOOPBACK = { addresses: ['127.0.0.1'] };
/** Platform rules with loopback as an operator exception, and a team allowed to reach it. */
const GUARD = new DestinationGuard({ services: [], allowedExceptions: ['127.0.0.0/8'], extraDenied: [] });
const LOOPBACK_POLICY = { zones: [], cidrs: ['127.0.0.0/8'], ports: [] };
const DELIVERY_ID = 'ver_1/0/g1/rollout/1';
const PAYLOAD: WebhookPayload = {
  certificateId: 'crt_1',
  versionId: 'ver_1',
  generation: 1,
  serial: '0a1b2c3d',
  purpose: 'rollout',
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2026-04-01T00:00:00.000Z',
  fingerprintSha256: 'ab'.repeat(32),
  certificatePem: '-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n',
  chainPem: '-----BEGIN CERTIFICATE-----\nchain\n-----END CERTIFICATE-----\n',
  fullchainPem: '-----BEGIN CERTIFICATE-----\nleaf\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nchain\n-----END CERTIFICATE-----\n',
};

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP receiver on 127.0.0.1 whose answer each test chooses. */
let server: Server;
let baseUrl: string;
let received: Received[];
let answer: (response: ServerResponse) => void;

beforeEach(async () => {
  received = [];
  answer = (response) => response.writeHead(204).end();
  server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      received.push({ method: request.method!, url: request.url!, headers: request.headers, body });
      answer(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the delivery to fail');
}

describe('postWebhook', () => {
  it('ok/POSTs the JSON payload with the delivery id and a signature the receiver can verify', async () => {
    const now = Math.floor(Date.now() / 1000);
    await postWebhook(`${baseUrl}/hooks/certs`, PAYLOAD, SECRET, DELIVERY_ID, { ...LOOPBACK, nowSeconds: now });

    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.method).toBe('POST');
    expect(request!.url).toBe('/hooks/certs');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.headers['certflow-delivery-id']).toBe(DELIVERY_ID);
    expect(JSON.parse(request!.body)).toEqual(PAYLOAD);
    const signature = request!.headers['certflow-signature'] as string;
    expect(signature).toMatch(new RegExp(`^t=${now},v1=[0-9a-f]{64}$`));
    expect(verifyWebhookSignature(SECRET, signature, request!.body, now)).toBe(true);
    expect(verifyWebhookSignature('whsec_other', signature, request!.body, now)).toBe(false);
  });

  it('ok/any 2xx with a body', async () => {
    answer = (response) => response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    await expect(postWebhook(baseUrl, PAYLOAD, SECRET, DELIVERY_ID, LOOPBACK)).resolves.toBeUndefined();
  });

  it.each([500, 503, 408, 429])('fail/%i is retryable: a plain Error naming the URL and status', async (status) => {
    answer = (response) => response.writeHead(status).end('try later');
    const error = await failureOf(postWebhook(`${baseUrl}/hook`, PAYLOAD, SECRET, DELIVERY_ID, LOOPBACK));
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect(error.message).toContain(`${baseUrl}/…#`);
    expect(error.message).toContain(`answered ${status}`);
  });

  it('fail/401 is a non-retryable DestinationRejected with the status and the start of the body', async () => {
    answer = (response) => response.writeHead(401).end(`invalid signature ${'x'.repeat(500)}`);
    const error = await failureOf(postWebhook(`${baseUrl}/hook`, PAYLOAD, SECRET, DELIVERY_ID, LOOPBACK));
    expect(error).toBeInstanceOf(ApplicationFailure);
    const failure = error as ApplicationFailure;
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('DestinationRejected');
    expect(failure.message).toContain('answered 401');
    expect(failure.message).toContain('invalid signature xxx');
    expect(failure.message).not.toContain('x'.repeat(200));
  });

  it('fail/a redirect is not followed but rejected', async () => {
    answer = (response) => response.writeHead(302, { Location: 'http://elsewhere.invalid/' }).end();
    const error = await failureOf(postWebhook(`${baseUrl}/hook`, PAYLOAD, SECRET, DELIVERY_ID, LOOPBACK));
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).type).toBe('DestinationRejected');
    expect(error.message).toMatch(/302 \(redirects are not followed\)/);
    expect(received).toHaveLength(1);
  });

  it('fail/connection refused is retryable and says so', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const error = await failureOf(postWebhook(`http://127.0.0.1:${port}/hook`, PAYLOAD, SECRET, DELIVERY_ID, LOOPBACK));
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect(error.message).toContain(`http://127.0.0.1:${port}/…#`);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('fail/no answer within the timeout is retryable', async () => {
    answer = () => undefined;
    const error = await failureOf(postWebhook(`${baseUrl}/slow`, PAYLOAD, SECRET, DELIVERY_ID, { ...LOOPBACK, timeoutMs: 200 }));
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect(error.message).toMatch(/\/…#[0-9a-f]{8} failed: no answer within 0.2 s/);
  });

  it.each(['ftp://127.0.0.1/hook', 'not a url', 'http://user:pass@127.0.0.1/hook'])('fail/%s is a non-retryable InvalidRequest', async (url) => {
    const error = await failureOf(postWebhook(url, PAYLOAD, SECRET, DELIVERY_ID, LOOPBACK));
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).type).toBe('InvalidRequest');
    expect(error.message).not.toContain('user:pass');
  });

  it('ok/connects to the checked addresses of a name, never asking DNS again, and sends the name as Host', async () => {
    const port = new URL(baseUrl).port;
    // .invalid never resolves (RFC 6761): the request can only have gone to the address it was given.
    await postWebhook(`http://receiver.invalid:${port}/hook`, PAYLOAD, SECRET, DELIVERY_ID, LOOPBACK);
    expect(received).toHaveLength(1);
    expect(received[0]!.headers.host).toBe(`receiver.invalid:${port}`);
  });

  it('fail/reads at most a few KiB of an error answer and keeps only printable text of it', async () => {
    let written = 0;
    answer = (response) => {
      response.writeHead(403, { 'Content-Type': 'text/plain' });
      response.write('\u001b[31mdenied\u0000\r\n by policy ');
      // An endless answer: the worker must stop reading, not buffer it.
      const more = () => {
        while (written < 8 * 1024 * 1024 && response.write('y'.repeat(16 * 1024))) written += 16 * 1024;
        if (written < 8 * 1024 * 1024) response.once('drain', more);
      };
      response.on('error', () => undefined);
      more();
    };
    const error = await failureOf(postWebhook(`${baseUrl}/hook`, PAYLOAD, SECRET, DELIVERY_ID, LOOPBACK));
    expect((error as ApplicationFailure).type).toBe('DestinationRejected');
    expect(error.message).toMatch(/answered 403: \[31mdenied by policy y+…$/);
    expect(error.message).not.toMatch(/[\u0000-\u001f]/);
    expect(error.message.length).toBeLessThan(400);
    expect(written).toBeLessThan(8 * 1024 * 1024);
  });

  it('keeps query strings out of error messages', async () => {
    answer = (response) => response.writeHead(500).end();
    const error = await failureOf(postWebhook(`${baseUrl}/hook?token=s3cret`, PAYLOAD, SECRET, DELIVERY_ID, LOOPBACK));
    expect(received[0]!.url).toBe('/hook?token=s3cret');
    expect(error.message).toMatch(new RegExp(`${baseUrl.replace(/\./g, '\\.')}/…#[0-9a-f]{8} answered 500`));
    expect(error.message).not.toContain('s3cret');
  });
});

describe('deliverToWebhook', () => {
  it('opens the sealed secret, posts the version without the private key and reports its serial', async () => {
    const kek = Buffer.alloc(32, 7);
    const now = new Date();
    const certificate = { id: 'crt_hook', destinations: [] } as unknown as CertificateRow;
    const version = {
      id: 'ver_hook',
      certificateId: 'crt_hook',
      generation: 3,
      serial: '3c4d',
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2026-04-01T00:00:00Z'),
      fingerprintSha256: 'cd'.repeat(32),
    } as unknown as VersionRow;
    const context: DeliveryContext = {
      certificate,
      version,
      destinationIndex: 1,
      rolloutKey: 'g3/rollback/2',
      purpose: 'rollback',
      certificatePem: 'LEAF\n',
      chainPem: 'CHAIN\n',
      privateKeyPem: '-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n',
      destinationHosts: LOOPBACK_POLICY,
    };
    // Sealed as the API seals it: to the worker's public key, which the API holds instead of the KEK.
    const sealedSecret = sealDestinationSecret(workerSealingKey(kek).publicKey, SECRET, 'crt_hook', 1);
    const deps = { kek, now: () => now, destinationGuard: GUARD } as unknown as ActivityDeps;

    const report = await deliverToWebhook(deps, context, { type: 'webhook', url: `${baseUrl}/hook`, sealedSecret });

    expect(report).toEqual({ deployedSerial: '3c4d' });
    const [request] = received;
    expect(request!.headers['certflow-delivery-id']).toBe(webhookDeliveryId('ver_hook', 1, 'g3/rollback/2'));
    expect(request!.headers['certflow-delivery-id']).toBe('ver_hook/1/g3/rollback/2');
    expect(verifyWebhookSignature(SECRET, request!.headers['certflow-signature'] as string, request!.body, Math.floor(now.getTime() / 1000))).toBe(true);
    expect(request!.body).not.toContain('PRIVATE KEY');
    expect(JSON.parse(request!.body)).toEqual({
      certificateId: 'crt_hook',
      versionId: 'ver_hook',
      generation: 3,
      serial: '3c4d',
      purpose: 'rollback',
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2026-04-01T00:00:00.000Z',
      fingerprintSha256: 'cd'.repeat(32),
      certificatePem: 'LEAF\n',
      chainPem: 'CHAIN\n',
      fullchainPem: 'LEAF\nCHAIN\n',
    });
  });

  it('ok/a secret sealed before sealed boxes (AES-GCM under the KEK-derived secrets key) still opens', async () => {
    const kek = Buffer.alloc(32, 7);
    const sealedSecret = sealPrivateKey(deriveSecretsKey(kek), Buffer.from(SECRET, 'utf8'), destinationSecretId('crt_hook', 1));
    const context = { certificate: { id: 'crt_hook' }, version: { id: 'ver_hook', serial: '01', notBefore: new Date(), notAfter: new Date() }, destinationIndex: 1, rolloutKey: 'g1', destinationHosts: LOOPBACK_POLICY } as unknown as DeliveryContext;
    const now = new Date();
    await deliverToWebhook({ kek, now: () => now, destinationGuard: GUARD } as unknown as ActivityDeps, context, { type: 'webhook', url: `${baseUrl}/hook`, sealedSecret });
    expect(verifyWebhookSignature(SECRET, received[0]!.headers['certflow-signature'] as string, received[0]!.body, Math.floor(now.getTime() / 1000))).toBe(true);
  });

  it('fail/a host outside the policy is refused before connecting, as a non-retryable DestinationRejected', async () => {
    const kek = Buffer.alloc(32, 7);
    const sealedSecret = sealDestinationSecret(workerSealingKey(kek).publicKey, SECRET, 'crt_hook', 0);
    const context = { certificate: { id: 'crt_hook' }, version: { id: 'ver_hook' }, destinationIndex: 0, destinationHosts: LOOPBACK_POLICY } as unknown as DeliveryContext;
    const strict = new DestinationGuard({ services: [], allowedExceptions: [], extraDenied: [] });
    const deps = { kek, now: () => new Date(), destinationGuard: strict } as unknown as ActivityDeps;
    const error = await failureOf(deliverToWebhook(deps, context, { type: 'webhook', url: `${baseUrl}/hook`, sealedSecret }));
    expect((error as ApplicationFailure).type).toBe('DestinationRejected');
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect(error.message).toMatch(/refused before connecting: .*127\.0\.0\.1 is a loopback address/);
    expect(received).toHaveLength(0);
  });

  it('fail/a secret sealed for another destination does not open', async () => {
    const kek = Buffer.alloc(32, 7);
    const sealedSecret = sealDestinationSecret(workerSealingKey(kek).publicKey, SECRET, 'crt_hook', 0);
    const context = { certificate: { id: 'crt_hook' }, version: { id: 'ver_hook' }, destinationIndex: 1, destinationHosts: LOOPBACK_POLICY } as unknown as DeliveryContext;
    const deps = { kek, now: () => new Date(), destinationGuard: GUARD } as unknown as ActivityDeps;
    await expect(deliverToWebhook(deps, context, { type: 'webhook', url: `${baseUrl}/hook`, sealedSecret })).rejects.toThrow(
      /cannot open the webhook secret of crt_hook destination #1/,
    );
    expect(received).toHaveLength(0);
  });
});
