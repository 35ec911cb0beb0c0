/**
 * The fault suite's worker process: cmd/worker.ts composed with a signer that fails a fraction of
 * its calls and logs every certificate it signs (faulty-signer.ts). Configured like production
 * through the environment, plus CERTFLOW_FAULTS_SIGNER_LOG (required) and
 * CERTFLOW_FAULTS_SIGNER_FAILURE_RATE (default 0). Only the fault suite starts it.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../../cmd/config.js';
import { logger, onShutdownSignal, runMain } from '../../cmd/log.js';
import { startWorker } from '../../cmd/start-worker.js';
import { faultySigner } from './faulty-signer.js';

runMain(async () => {
  const config = loadConfig();
  if (!config.databaseUrl) throw new ConfigError('DATABASE_URL is required');
  const logFile = process.env['CERTFLOW_FAULTS_SIGNER_LOG'];
  if (!logFile) throw new ConfigError('CERTFLOW_FAULTS_SIGNER_LOG is required');
  const failureRate = Number(process.env['CERTFLOW_FAULTS_SIGNER_FAILURE_RATE'] ?? '0');
  if (!(failureRate >= 0 && failureRate <= 1)) throw new ConfigError('CERTFLOW_FAULTS_SIGNER_FAILURE_RATE must be within 0..1');
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const log = logger('fault-worker');
  const address = config.temporalAddress ?? '127.0.0.1:7233';
  const worker = await startWorker({ ...config, databaseUrl: config.databaseUrl, temporalAddress: address }, log, {
    wrapSigner: (signer, issuer) => faultySigner(signer, issuer.id, { failureRate, logFile }),
  });
  log(`worker polling task queue ${config.taskQueue} on ${address} (signer failure rate ${failureRate})`);
  onShutdownSignal(() => worker.stop());
  await worker.done;
});
