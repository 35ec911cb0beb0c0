/**
 * A Slack-compatible incoming webhook URL carries its credential in the path
 * (https://hooks.slack.com/services/T…/B…/<secret>): whoever holds the URL can post to the channel.
 * A notification contact with `format: slack` is exactly such a URL. Its path must not end up in
 * trace span attributes (exported to the OTLP collector) nor in error messages (the delivery's
 * last_error and the append-only audit event `notification.delivery_failed`): only the origin and a
 * short hash of the rest are shown.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../../../activities/deliver-to-webhook.js';

const SLACK_SECRET = 'xQ9kT2mZr7LbV4nHc8WjPd3F';
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let server: Server;
let port: number;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  server = createServer((request, response) => {
    request.resume();
    response.writeHead(404, { 'Content-Type': 'text/plain' }).end('no_team');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await provider.shutdown();
  trace.disable();
});

describe('a webhook URL credential stays out of traces and error messages', () => {
  it('ok/the Slack URL secret path is neither in the span nor in the error message; its origin is', async () => {
    const url = `http://127.0.0.1:${port}/services/T0001/B0001/${SLACK_SECRET}`;
    const error = await postWebhook(url, { text: 'hi' }, 'contact-signing-secret-0123456789', 'ntf_1', { addresses: ['127.0.0.1'] }).then(
      () => null,
      (thrown: Error) => thrown,
    );
    expect(error).not.toBeNull();
    const span = exporter.getFinishedSpans().find((candidate) => candidate.name === 'POST');
    expect(span, 'the CLIENT span of the POST').toBeDefined();
    const attributes = JSON.stringify(span!.attributes) + JSON.stringify(span!.events) + String(span!.status.message);
    expect.soft(error!.message, "error message").not.toContain(SLACK_SECRET);
    expect.soft(attributes, "span attributes").not.toContain(SLACK_SECRET);
    expect(error!.message).toContain(`http://127.0.0.1:${port}/…#`);
    expect(span!.attributes['url.full']).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/…#[0-9a-f]{8}$`));
  });
});
