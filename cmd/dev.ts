/**
 * `npm run dev`: the whole platform on embedded defaults in one process tree — embedded Postgres,
 * a Temporal dev server with its UI, the worker and the API — then prints where everything is.
 * DATABASE_URL / TEMPORAL_ADDRESS switch to external services.
 */
import { join } from 'node:path';
import { Runtime } from '@temporalio/worker';
import { LOOPBACK_RANGES } from '../core/destination-hosts.js';
import { startEmbeddedPostgres } from '../devservices/embedded-postgres.js';
import { startTemporalDevServer } from '../devservices/temporal-dev-server.js';
import { loadConfig } from './config.js';
import { componentLogger, logger, onShutdownSignal, runMain } from './log.js';
import { startObservability } from './observability.js';
import { TemporalLogger } from './temporal-logger.js';
import { workerSealingKey } from '../ca/destination-secrets.js';
import { encodeSealingPublicKey } from '../ca/sealed-box.js';
import { loadKek } from './kek.js';
import { apiConfig, startApi } from './start-api.js';
import { startWorker } from './start-worker.js';
import { temporalSdkTelemetry } from './temporal-sdk-metrics.js';

runMain(async () => {
  const started = Date.now();
  const config = loadConfig();
  const tracing = startObservability(config, 'certflow');
  Runtime.install({ logger: new TemporalLogger(componentLogger('temporal')), shutdownSignals: [], ...temporalSdkTelemetry(config.metrics.temporalSdkAddress) });
  const log = logger('dev');
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => console.error(error));
  };
  if (tracing) stops.push(() => tracing.shutdown());
  onShutdownSignal(stopAll);

  try {
    let databaseUrl = config.databaseUrl;
    let postgresDataDir: string | null = null;
    if (!databaseUrl) {
      const postgres = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres'), port: 5433, log: logger('postgres') });
      stops.push(() => postgres.stop());
      databaseUrl = postgres.url;
      postgresDataDir = postgres.dataDir;
    }
    let temporalAddress = config.temporalAddress;
    let temporalUiUrl: string | null = null;
    if (!temporalAddress) {
      const server = await startTemporalDevServer({
        dbFile: join(config.dataDir, 'temporal', 'temporal.db'),
        port: config.temporalPort,
        uiPort: config.temporalUiPort,
        namespace: config.temporalNamespace,
        log: logger('temporal'),
      });
      stops.push(() => server.stop());
      temporalAddress = server.address;
      temporalUiUrl = server.uiUrl;
    }

    // Webhook receivers and TLS services on this machine are what a developer tries first.
    const devDefaults = { allowPrivateDestinations: LOOPBACK_RANGES };
    const worker = await startWorker({ ...config, databaseUrl, temporalAddress, devDefaults }, logger('worker'), { tracing });
    stops.push(() => worker.stop());
    worker.done.catch((error: unknown) => {
      console.error('worker stopped unexpectedly:', error);
      void stopAll().then(() => process.exit(1));
    });
    // The API part gets the sealing public key derived from the (dev) KEK, never the KEK itself.
    const sealingPublicKey = config.sealingPublicKey ?? encodeSealingPublicKey(workerSealingKey(await loadKek(config, log)).publicKey);
    const api = await startApi(apiConfig({ ...config, databaseUrl, temporalAddress, sealingPublicKey, devDefaults }), logger('api'), { tracing });
    stops.push(() => api.stop());

    log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(
      [
        '',
        'Certflow is running.',
        `  API           ${api.url}`,
        `  ACME          ${config.acme ? `https://${config.host}:${config.acme.port}/acme/directory (serves once the worker has issued its certificate; trust ${api.url}/pki/roots.pem)` : 'off (CERTFLOW_ACME_PORT=0)'}`,
        `  Temporal UI   ${temporalUiUrl ?? '(external Temporal server: ' + temporalAddress + ')'}`,
        `  Temporal      ${temporalAddress}  namespace ${config.temporalNamespace}`,
        `  Postgres      ${redact(databaseUrl)}${postgresDataDir ? `  data ${postgresDataDir}` : ''}`,
        `  Admin token   ${api.bootstrapToken ?? '(none: CERTFLOW_BOOTSTRAP_TOKEN not set, or the bootstrap token was revoked or rotated)'}`,
        `  Deliveries    ${config.fileDestinationRoot}`,
        `  Destinations  exceptions to the deny list: ${(config.allowPrivateDestinations ?? LOOPBACK_RANGES).join(', ') || 'none'} (CERTFLOW_ALLOW_PRIVATE_DESTINATIONS)`,
        '',
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
});

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}
