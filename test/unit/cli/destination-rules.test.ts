import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../cmd/config.js';
import { platformDestinationRules } from '../../../cmd/destination-rules.js';

const BASE = { DATABASE_URL: 'postgres://certflow@db.internal:6543/certflow', TEMPORAL_ADDRESS: 'temporal:7233' };

function rulesFor(env: Record<string, string>, defaults: { allowPrivate?: readonly string[] } = {}) {
  const config = loadConfig({ ...BASE, ...env });
  return platformDestinationRules({ ...config, databaseUrl: config.databaseUrl!, temporalAddress: config.temporalAddress! }, defaults);
}

describe('platformDestinationRules', () => {
  it("ok/denies the platform's own services where the configuration says they are", () => {
    expect(rulesFor({ PORT: '9090', CERTFLOW_HOST: '0.0.0.0' }).services).toEqual([
      { name: 'Postgres', host: 'db.internal', port: 6543 },
      { name: 'Temporal server', host: 'temporal', port: 7233 },
      { name: 'Temporal UI', host: '127.0.0.1', port: 8233 },
      { name: 'API', host: '0.0.0.0', port: 9090 },
      // Bound to every address, the API is also reached at its public name.
      { name: 'API', host: '127.0.0.1', port: 9090 },
      { name: 'worker metrics', host: '127.0.0.1', port: 9464 },
    ]);
  });

  it('ok/the Temporal UI where its URL says, and an API bound to every address at its public name', () => {
    const services = rulesFor({ CERTFLOW_TEMPORAL_UI_URL: 'https://temporal-ui.internal', CERTFLOW_HOST: '::', CERTFLOW_PUBLIC_URL: 'https://certflow.internal:8443' }).services;
    expect(services).toContainEqual({ name: 'Temporal UI', host: 'temporal-ui.internal', port: 443 });
    expect(services).toContainEqual({ name: 'API', host: 'certflow.internal', port: 8080 });
  });

  it('ok/reads IPv6 and bare Temporal addresses', () => {
    expect(rulesFor({ TEMPORAL_ADDRESS: '[::1]:7300' }).services[1]).toEqual({ name: 'Temporal server', host: '::1', port: 7300 });
    expect(rulesFor({ TEMPORAL_ADDRESS: 'temporal.internal' }).services[1]).toEqual({ name: 'Temporal server', host: 'temporal.internal', port: 7233 });
  });

  it('ok/no exceptions unless the operator (or dev mode) gives them', () => {
    expect(rulesFor({}).allowedExceptions).toEqual([]);
    expect(rulesFor({}, { allowPrivate: ['127.0.0.0/8'] }).allowedExceptions).toEqual(['127.0.0.0/8']);
    expect(rulesFor({ CERTFLOW_ALLOW_PRIVATE_DESTINATIONS: '' }, { allowPrivate: ['127.0.0.0/8'] }).allowedExceptions).toEqual(['127.0.0.0/8']);
    expect(rulesFor({ CERTFLOW_ALLOW_PRIVATE_DESTINATIONS: 'loopback,192.168.0.0/16' }).allowedExceptions).toEqual(['127.0.0.0/8', '::1/128', '192.168.0.0/16']);
    expect(rulesFor({ CERTFLOW_DENIED_DESTINATIONS: '10.96.0.0/12' }).extraDenied).toEqual(['10.96.0.0/12']);
  });

  it('fail/a bad range stops the start with the variable named', () => {
    expect(() => rulesFor({ CERTFLOW_ALLOW_PRIVATE_DESTINATIONS: 'everything' })).toThrow(/CERTFLOW_ALLOW_PRIVATE_DESTINATIONS: .*everything/);
  });
});
