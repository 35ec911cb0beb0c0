import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../cmd/config.js';

describe('metrics settings', () => {
  it('ok/defaults: open endpoints, the worker listener on 127.0.0.1:9464, no SDK exporter', () => {
    expect(loadConfig({}).metrics).toEqual({ token: null, maxTeams: 100, cacheSeconds: 15, workerHost: '127.0.0.1', workerPort: 9464, temporalSdkAddress: null });
  });

  it('ok/everything set', () => {
    const metrics = loadConfig({
      CERTFLOW_METRICS_TOKEN: 'a-long-enough-token',
      CERTFLOW_METRICS_MAX_TEAMS: '5',
      CERTFLOW_METRICS_CACHE_SECONDS: '60',
      CERTFLOW_WORKER_METRICS_HOST: '0.0.0.0',
      CERTFLOW_WORKER_METRICS_PORT: '0',
      CERTFLOW_TEMPORAL_METRICS_ADDRESS: '127.0.0.1:9465',
    }).metrics;
    expect(metrics).toEqual({ token: 'a-long-enough-token', maxTeams: 5, cacheSeconds: 60, workerHost: '0.0.0.0', workerPort: 0, temporalSdkAddress: '127.0.0.1:9465' });
  });

  it.each([
    ['fail/short token', { CERTFLOW_METRICS_TOKEN: 'short' }, /CERTFLOW_METRICS_TOKEN: must be at least 16 characters/],
    ['fail/SDK address without a port', { CERTFLOW_TEMPORAL_METRICS_ADDRESS: '127.0.0.1' }, /CERTFLOW_TEMPORAL_METRICS_ADDRESS: must be host:port/],
    ['fail/worker port out of range', { CERTFLOW_WORKER_METRICS_PORT: '70000' }, /CERTFLOW_WORKER_METRICS_PORT/],
  ])('%s', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
