/** `npm run worker`: runs the Temporal worker against DATABASE_URL and TEMPORAL_ADDRESS. */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ConfigError, loadConfig } from './config.js';
import { logger, onShutdownSignal, runMain } from './log.js';
import { startWorker } from './start-worker.js';
import { temporalSdkTelemetry } from './temporal-sdk-metrics.js';

runMain(async () => {
  const config = loadConfig();
  if (!config.databaseUrl) throw new ConfigError('DATABASE_URL is required for the worker (or use `npm run dev`)');
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [], ...temporalSdkTelemetry(config.metrics.temporalSdkAddress) });
  const log = logger('worker');
  const worker = await startWorker({ ...config, databaseUrl: config.databaseUrl, temporalAddress: config.temporalAddress ?? '127.0.0.1:7233' }, log);
  log(`worker polling task queue ${config.taskQueue} on ${config.temporalAddress ?? '127.0.0.1:7233'}`);
  onShutdownSignal(() => worker.stop());
  await worker.done;
});
