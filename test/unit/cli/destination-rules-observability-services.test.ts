/**
 * The services the observability features added — the worker's
 * metrics listener, the Temporal SDK's metrics exporter, the SMTP relay and the OTLP collector —
 * are the platform's own services too, so no team webhook (destination or notification contact)
 * may reach them even where an operator exception (dev: loopback; production: a private range the
 * team's destinationHosts allows) lets private addresses through. Postgres is the control case.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../cmd/config.js';
import { platformDestinationRules } from '../../../cmd/destination-rules.js';
import { checkDestinationHost, checkResolvedAddress, type DestinationHostPolicy } from '../../../core/destination-hosts.js';

const ENV = {
  DATABASE_URL: 'postgres://certflow@127.0.0.1:5432/certflow',
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  CERTFLOW_WORKER_METRICS_PORT: '9464',
  CERTFLOW_TEMPORAL_METRICS_ADDRESS: '127.0.0.1:9465',
  CERTFLOW_SMTP_URL: 'smtp://relay.platform.internal:25',
  CERTFLOW_SMTP_FROM: 'certflow@example.test',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel.platform.internal:4318',
};

/** A team policy wide enough to name the platform's hosts (what an admin writes for "internal webhooks"). */
const wide: DestinationHostPolicy = { zones: ['internal'], cidrs: ['127.0.0.0/8', '10.0.0.0/8'], ports: [] };

function rules() {
  const config = loadConfig(ENV);
  // npm run dev's default exception (LOOPBACK_RANGES), as cmd/start-api.ts and cmd/start-worker.ts pass it.
  return platformDestinationRules({ ...config, databaseUrl: config.databaseUrl!, temporalAddress: config.temporalAddress! }, { allowPrivate: ['127.0.0.0/8', '::1/128'] });
}

describe('observability services are platform services (SSRF)', () => {
  it('ok/control: Postgres on loopback is refused as a platform service', () => {
    expect(checkDestinationHost('127.0.0.1', 5432, wide, rules())?.code).toBe('platform_service');
  });

  it.each([
    ['the worker metrics listener (CERTFLOW_WORKER_METRICS_PORT)', '127.0.0.1', 9464],
    ['the Temporal SDK metrics exporter (CERTFLOW_TEMPORAL_METRICS_ADDRESS)', '127.0.0.1', 9465],
    ['the SMTP relay (CERTFLOW_SMTP_URL)', 'relay.platform.internal', 25],
    ['the OTLP collector (OTEL_EXPORTER_OTLP_ENDPOINT)', 'otel.platform.internal', 4318],
  ])('ok/%s is refused to a team webhook', (_what, host, port) => {
    expect(checkDestinationHost(host, port, wide, rules())?.code).toBe('platform_service');
  });

  it('ok/the worker metrics listener is refused at connect time on its loopback address', () => {
    expect(checkResolvedAddress('127.0.0.1', 9464, rules())?.code).toBe('platform_service');
  });

  it('ok/the OTLP endpoint defaults to the exporter default (localhost:4318) with OTEL_TRACES_EXPORTER=otlp, and smtps to 465', () => {
    const config = loadConfig({ ...ENV, OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_TRACES_EXPORTER: 'otlp', CERTFLOW_SMTP_URL: 'smtps://u:p@relay.platform.internal' });
    const services = platformDestinationRules({ ...config, databaseUrl: config.databaseUrl!, temporalAddress: config.temporalAddress! }).services;
    expect(services).toContainEqual({ name: 'OTLP collector', host: 'localhost', port: 4318 });
    expect(services).toContainEqual({ name: 'SMTP relay', host: 'relay.platform.internal', port: 465 });
  });
});
