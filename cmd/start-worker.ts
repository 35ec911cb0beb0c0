/** Composition root of the worker: database, CA, Temporal connection, activities, workflows. */
import { processSecrets } from './observability.js';
import { Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { ensureCaHierarchy } from '../activities/ca-bootstrap.js';
import { IssuerStore, type SignerWrapper } from '../activities/issuer-store.js';
import { createDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrate.js';
import { WORKFLOWS_PATH } from '../workflows/workflows-path.js';
import type { Config } from './config.js';
import { workerSealingKey } from '../ca/destination-secrets.js';
import { kekId, type KekRing } from '../ca/key-encryption.js';
import { decodeSealingPublicKey, encodeSealingPublicKey } from '../ca/sealed-box.js';
import { loadKekRing } from './kek.js';
import { openConfiguredHsm } from './hsm.js';
import { DestinationGuard } from '../activities/destination-guard.js';
import { platformDestinationRules, type DevDefaults } from './destination-rules.js';
import { createPool } from '../db/postgres-pool.js';
import { loadAuditKey } from './audit-key.js';
import { AUDIT_CHECKPOINT_INTERVAL, AUDIT_CHECKPOINT_SCHEDULE_ID, ensureAuditCheckpointSchedule } from './audit-schedule.js';
import { checkpointCopyTo, recordStart } from './audit-startup.js';
import { createMetricsRegistry } from '../metrics/registry.js';
import { createWorkerMetrics } from '../metrics/worker-metrics.js';
import { startMetricsServer, type MetricsServer } from '../metrics/http.js';
import { createSmtpMailer } from '../activities/mailer.js';
import { ensureInventorySweepSchedule, ensureNotificationDeliverySchedule, INVENTORY_SWEEP_SCHEDULE_ID, NOTIFICATION_DELIVERY_SCHEDULE_ID } from './notification-schedules.js';
import type { Tracing } from './tracing.js';
import { clientTracingInterceptors, workerTracingOptions } from './worker-tracing.js';
import { createSigningWorker } from '../activities/signing-worker.js';
import { signingTaskQueue } from '../core/signing-queue.js';

/** The Temporal Schedule that publishes CRLs and refreshes OCSP responses (DESIGN.md §4 Schedules). */
import { CRL_PUBLICATION_SCHEDULE_ID } from './schedule-ids.js';
export { CRL_PUBLICATION_SCHEDULE_ID };
/** Well within a CRL's 24 h and an OCSP response's 48 h validity: a few missed runs change nothing. */
export const CRL_PUBLICATION_INTERVAL = '1 hour';

export interface CrlScheduleOptions {
  taskQueue: string;
  scheduleId?: string;
  interval?: string;
  /** Run the workflow once now (the worker does at start-up, so CRLs exist before the first interval). */
  triggerNow?: boolean;
}

/**
 * Creates the `crl-publication` Schedule, or brings an existing one up to date (spec, action, task
 * queue, policies) — so every worker start converges on the same definition. Overlapping runs are
 * skipped: one publication at a time is enough.
 */
export async function ensureCrlPublicationSchedule(client: Client, options: CrlScheduleOptions): Promise<'created' | 'updated'> {
  const scheduleId = options.scheduleId ?? CRL_PUBLICATION_SCHEDULE_ID;
  const spec = { intervals: [{ every: options.interval ?? CRL_PUBLICATION_INTERVAL }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'crlPublication',
    args: [],
    taskQueue: options.taskQueue,
    workflowId: scheduleId,
    workflowExecutionTimeout: '30 minutes',
  };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour', pauseOnFailure: false };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      policies,
      state: { note: 'managed by the Certflow worker (cmd/start-worker.ts)', triggerImmediately: options.triggerNow ?? false },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(scheduleId);
  await handle.update((previous) => ({ ...previous, spec, action, policies }));
  if (options.triggerNow) await handle.trigger(ScheduleOverlapPolicy.SKIP);
  return 'updated';
}

export interface RunningWorker {
  /** Resolves when the worker stops; rejects if it crashes. */
  done: Promise<void>;
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /** Wraps every issuer's signer (test/faults: a signer that fails some calls and logs what it signs). */
  wrapSigner?: SignerWrapper;
  /** Tracing is on (cmd/tracing.ts): workflow and activity interceptors, and the workflow span sink. */
  tracing?: Tracing | null;
}

export async function startWorker(
  config: Config & { databaseUrl: string; temporalAddress: string; devDefaults?: DevDefaults },
  log: (message: string) => void,
  options: WorkerOptions = {},
): Promise<RunningWorker> {
  const pool = createPool(config.databaseUrl, log);
  let hsm: Awaited<ReturnType<typeof openConfiguredHsm>>;
  try {
    await applyMigrations(pool, { appRole: config.dbAppRole });
    const db = createDatabase(pool, { auditKey: await loadAuditKey(config, log) });
    await recordStart(db, 'worker', config);
    const kek = await loadKekRing(config, log);
    describeKeks(config, kek, log);
    hsm = await openConfiguredHsm(config.signer, log);
    await ensureCaHierarchy(db, kek, { ...config.caNames, publicUrl: config.publicUrl, permittedDnsZones: config.permittedDnsZones, permittedUriDomains: config.permittedUriDomains, permittedIpRanges: config.permittedIpRanges, now: new Date(), log, hsm });

    const registry = createMetricsRegistry();
    const metrics = createWorkerMetrics(registry);
    const connection = await NativeConnection.connect({ address: config.temporalAddress });
    const { smtp, deliveryIntervalSeconds, sweepIntervalSeconds } = config.notifications;
    const mailer = smtp ? createSmtpMailer(smtp) : undefined;
    log(smtp ? `email notifications through ${new URL(smtp.url).host} as ${smtp.from}` : 'email notifications off (CERTFLOW_SMTP_URL unset): email contacts wait until it is set');
    let worker: Worker;
    let signingWorker: Worker;
    try {
      // The activities' client (bulk renewNow signals, schedules) shares the worker's native (Rust) connection: no
      // second gRPC stack in JavaScript on the worker's main thread.
      const client = new Client({ connection, namespace: config.temporalNamespace, interceptors: clientTracingInterceptors(options.tracing ?? null) });
      const activities = createActivities({
        db,
        kek,
        issuers: new IssuerStore(db, kek, config.publicUrl, options.wrapSigner, hsm),
        ...(hsm ? { hsm } : {}),
        now: () => new Date(),
        fileDestinationRoot: config.fileDestinationRoot,
        knownSecrets: processSecrets(config),
        destinationGuard: new DestinationGuard(platformDestinationRules(config, { allowPrivate: config.devDefaults?.allowPrivateDestinations })),
        temporal: client,
        acmeValidation: config.acmeValidation,
        auditCheckpointCopy: checkpointCopyTo(config.auditCheckpointFile, log),
        metrics,
        ...(mailer ? { mailer } : {}),
      });
      const tracingOptions = options.tracing ? workerTracingOptions(options.tracing) : null;
      worker = await Worker.create({
        ...(tracingOptions ?? {}),
        connection,
        namespace: config.temporalNamespace,
        taskQueue: config.taskQueue,
        workflowsPath: WORKFLOWS_PATH,
        maxConcurrentActivityTaskExecutions: config.workerMaxActivities,
        // Renewal steps run as local activities: by default the same budget.
        maxConcurrentLocalActivityExecutions: config.workerMaxLocalActivities ?? config.workerMaxActivities,
        maxConcurrentWorkflowTaskExecutions: config.workerMaxWorkflowTasks,
        ...(config.workerMaxCachedWorkflows !== undefined ? { maxCachedWorkflows: config.workerMaxCachedWorkflows } : {}),
        ...(config.workerMaxActivitiesPerSecond !== undefined ? { maxActivitiesPerSecond: config.workerMaxActivitiesPerSecond } : {}),
        ...(config.taskQueueMaxActivitiesPerSecond !== undefined ? { maxTaskQueueActivitiesPerSecond: config.taskQueueMaxActivitiesPerSecond } : {}),
        activities,
      });
      signingWorker = await createSigningWorker({
        connection,
        namespace: config.temporalNamespace,
        taskQueue: config.taskQueue,
        activities,
        maxPerSecond: config.signing.maxPerSecond,
        maxConcurrent: config.signing.maxConcurrent,
        ...(tracingOptions?.interceptors?.activity ? { interceptors: { activity: tracingOptions.interceptors.activity } } : {}),
      });
      log(`signing on task queue ${signingTaskQueue(config.taskQueue)}: ${config.signing.maxPerSecond === null ? 'no rate limit' : `at most ${config.signing.maxPerSecond}/s over every worker`}, ${config.signing.maxConcurrent} at once here (CERTFLOW_SIGNER_MAX_PER_SECOND, CERTFLOW_WORKER_MAX_SIGNINGS)`);
      const outcome = await ensureCrlPublicationSchedule(client, { taskQueue: config.taskQueue, triggerNow: true });
      log(`schedule ${CRL_PUBLICATION_SCHEDULE_ID} ${outcome} (every ${CRL_PUBLICATION_INTERVAL}); publishing CRLs now`);
      const audit = await ensureAuditCheckpointSchedule(client, { taskQueue: config.taskQueue });
      log(`schedule ${AUDIT_CHECKPOINT_SCHEDULE_ID} ${audit} (every ${AUDIT_CHECKPOINT_INTERVAL}); checkpoint copies in ${config.auditCheckpointFile}`);
      if (deliveryIntervalSeconds !== null) {
        const delivery = await ensureNotificationDeliverySchedule(client, { taskQueue: config.taskQueue, intervalSeconds: deliveryIntervalSeconds });
        log(`schedule ${NOTIFICATION_DELIVERY_SCHEDULE_ID} ${delivery} (every ${deliveryIntervalSeconds} s)`);
      }
      if (sweepIntervalSeconds !== null) {
        const sweep = await ensureInventorySweepSchedule(client, { taskQueue: config.taskQueue, intervalSeconds: sweepIntervalSeconds });
        log(`schedule ${INVENTORY_SWEEP_SCHEDULE_ID} ${sweep} (every ${sweepIntervalSeconds} s)`);
      }
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
    const metricsServer = await startWorkerMetrics(config, registry, log);
    const runs = [worker.run(), signingWorker.run()];
    // One stopping (a crash) stops the other: the process never runs half a worker.
    void Promise.race(runs.map((running) => running.catch(() => undefined))).then(() => {
      for (const each of [worker, signingWorker]) if (each.getState() === 'RUNNING') each.shutdown();
    });
    const done = Promise.all(runs).then(() => undefined).finally(async () => {
      await metricsServer?.close().catch(() => undefined);
      mailer?.close();
      await connection.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      hsm?.close();
    });
    return {
      done,
      async stop() {
        for (const each of [worker, signingWorker]) if (each.getState() === 'RUNNING') each.shutdown();
        await done;
      },
    };
  } catch (error) {
    await pool.end().catch(() => undefined);
    hsm?.close();
    throw error;
  }
}

/**
 * The worker's GET /metrics listener (CERTFLOW_WORKER_METRICS_HOST/PORT). A port that cannot be bound is
 * logged, not fatal: the worker keeps renewing certificates, and Prometheus's `up` shows the missing target.
 */
async function startWorkerMetrics(config: Config, registry: ReturnType<typeof createMetricsRegistry>, log: (message: string) => void): Promise<MetricsServer | null> {
  const { workerHost, workerPort, token } = config.metrics;
  if (workerPort === 0) return null;
  try {
    const server = await startMetricsServer({ registry, host: workerHost, port: workerPort, access: { token, refuseWithoutToken: config.production } });
    log(`worker metrics at ${server.url}/metrics`);
    return server;
  } catch (error) {
    log(`ERROR: the worker metrics listener on ${workerHost}:${workerPort} did not start (${error instanceof Error ? error.message : String(error)}); set CERTFLOW_WORKER_METRICS_PORT to a free port, or 0 for none`);
    return null;
  }
}

/**
 * Says which KEKs the worker holds and its sealing public key (what the API's
 * CERTFLOW_SEALING_PUBLIC_KEY must be); warns when the configured one is not the worker's.
 */
function describeKeks(config: Config, kek: KekRing, log: (message: string) => void): void {
  const sealing = workerSealingKey(kek.current).publicKey;
  log(`KEK ${kekId(kek.current)}; sealing public key ${encodeSealingPublicKey(sealing)}`);
  if (kek.previous.length > 0) log(`KEK rotation: also opening blobs sealed under ${kek.previous.map(kekId).join(', ')} (CERTFLOW_KEK_PREVIOUS) until \`certflow kek rotate\` finishes`);
  if (config.sealingPublicKey) {
    let configured: string;
    try {
      configured = decodeSealingPublicKey(config.sealingPublicKey).id;
    } catch (error) {
      log(`WARNING: CERTFLOW_SEALING_PUBLIC_KEY: ${(error as Error).message}`);
      return;
    }
    const held = [kek.current, ...kek.previous].map((key) => workerSealingKey(key).publicKey.id);
    if (configured !== sealing.id) {
      log(`WARNING: CERTFLOW_SEALING_PUBLIC_KEY is not this worker's sealing key${held.includes(configured) ? ' (it is the previous KEK\'s: update the API)' : ': the worker cannot open webhook secrets the API seals to it'}`);
    }
  }
}
