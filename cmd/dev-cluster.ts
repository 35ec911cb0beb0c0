/**
 * `npm run dev:cluster`: the production-shaped topology on this machine (devservices/cluster-topology.ts, the same
 * definition docker-compose.yml is generated from): Postgres, the Temporal server on it, the Temporal UI, two workers
 * and two APIs behind one port. Data under `<CERTFLOW_DATA_DIR>/cluster`; dev-mode secrets are generated there once.
 */
import { join } from 'node:path';
import { workerSealingKey } from '../ca/destination-secrets.js';
import { encodeSealingPublicKey } from '../ca/sealed-box.js';
import { startCluster } from '../devservices/cluster.js';
import { loadClusterConfig } from './cluster-config.js';
import { loadConfig } from './config.js';
import { loadKek } from './kek.js';
import { logger, onShutdownSignal, runMain } from './log.js';
import { resolveBootstrapToken } from './start-api.js';
import { readFile } from 'node:fs/promises';
import { loadAuditKey } from './audit-key.js';

runMain(async () => {
  const startedAt = Date.now();
  const config = loadConfig();
  const cluster = loadClusterConfig();
  const log = logger('dev:cluster');
  const dataDir = join(config.dataDir, 'cluster');
  // Dev-mode secrets live with the cluster's data, like `npm run dev`'s; CERTFLOW_KEK etc. override them.
  const clusterConfig = { ...config, dataDir };
  const kek = await loadKek(clusterConfig, log);
  await loadAuditKey(clusterConfig, log);
  const auditKeyHex = config.auditKey ?? (await readFile(join(dataDir, 'audit-key'), 'utf8')).trim();
  const bootstrapToken = await resolveBootstrapToken({ ...clusterConfig, bootstrapToken: config.bootstrapToken });

  const started = await startCluster({
    dataDir,
    ports: { api: config.port, acme: config.acme ? config.acme.port : null, temporal: config.temporalPort, temporalUi: config.temporalUiPort, postgres: cluster.postgresPort },
    workers: cluster.workers,
    apis: cluster.apis,
    secrets: {
      kekHex: kek.toString('hex'),
      auditKeyHex,
      sealingPublicKey: config.sealingPublicKey ?? encodeSealingPublicKey(workerSealingKey(kek).publicKey),
      bootstrapToken: bootstrapToken ?? '',
    },
    extraEnv: { CERTFLOW_ALLOW_PRIVATE_DESTINATIONS: 'loopback' },
    log: logger('cluster'),
  });
  onShutdownSignal(() => started.stop());

  log(`ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (${Object.entries(started.timings).map(([what, ms]) => `${what} ${(ms / 1000).toFixed(1)} s`).join(', ')})`);
  console.log(
    [
      '',
      'Certflow cluster topology is running (Temporal on Postgres).',
      `  API           ${started.apiUrl}  (round-robin over ${started.apis.length} API processes)`,
      `  ACME          ${started.acmeUrl ?? 'off (CERTFLOW_ACME_PORT=0)'}`,
      `  Workers       ${started.workers.length} (pids ${started.workers.map((w) => w.pid).join(', ')})`,
      `  Temporal UI   ${started.temporalUiUrl}`,
      `  Temporal      ${started.temporalAddress}  namespace default`,
      `  Postgres      ${started.databaseUrl.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@')}  (databases certflow, temporal, temporal_visibility)`,
      `  Admin token   ${bootstrapToken ?? '(none)'}`,
      `  Data          ${dataDir}`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
});
