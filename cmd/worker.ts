/** `npm run worker`: runs the Temporal worker against DATABASE_URL and TEMPORAL_ADDRESS. */
import { Runtime } from '@temporalio/worker';
import { ConfigError, loadConfig } from './config.js';
import { componentLogger, logger, onShutdownSignal, runMain } from './log.js';
import { startObservability } from './observability.js';
import { TemporalLogger } from './temporal-logger.js';
import { startWorker } from './start-worker.js';
import { temporalSdkTelemetry } from './temporal-sdk-metrics.js';

runMain(async () => {
  const config = loadConfig();
  if (!config.databaseUrl) throw new ConfigError('DATABASE_URL is required for the worker (or use `npm run dev`)');
  const tracing = startObservability(config, 'certflow-worker');
  Runtime.install({ logger: new TemporalLogger(componentLogger('temporal')), shutdownSignals: [], ...temporalSdkTelemetry(config.metrics.temporalSdkAddress) });
  const log = logger('worker');
  const worker = await startWorker({ ...config, databaseUrl: config.databaseUrl, temporalAddress: config.temporalAddress ?? '127.0.0.1:7233' }, log, { tracing });
  log(`worker polling task queue ${config.taskQueue} on ${config.temporalAddress ?? '127.0.0.1:7233'}`);
  onShutdownSignal(async () => {
    await worker.stop();
    await tracing?.shutdown();
  });
  await worker.done;
});
