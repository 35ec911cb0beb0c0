/** `npm run api`: serves the HTTP API against DATABASE_URL and TEMPORAL_ADDRESS. It needs no KEK (and is given none). */
import { ConfigError, loadConfig } from './config.js';
import { logger, onShutdownSignal, runMain } from './log.js';
import { startObservability } from './observability.js';
import { apiConfig, startApi } from './start-api.js';

runMain(async () => {
  const loaded = loadConfig();
  const tracing = startObservability(loaded, 'certflow-api');
  const config = apiConfig(loaded);
  if (!config.databaseUrl) throw new ConfigError('DATABASE_URL is required for the API (or use `npm run dev`)');
  const log = logger('api');
  if (loaded.kek || loaded.kekPrevious.length > 0) log('WARNING: CERTFLOW_KEK is set in the API\'s environment; the API never uses it: remove it (only the worker needs it)');
  const api = await startApi({ ...config, databaseUrl: config.databaseUrl, temporalAddress: config.temporalAddress ?? '127.0.0.1:7233' }, log, { tracing });
  log(`listening on ${api.url}`);
  onShutdownSignal(async () => {
    await api.stop();
    await tracing?.shutdown();
  });
});
