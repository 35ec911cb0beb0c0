/**
 * Certflow's side of bench/bulk.ts on a started topology: the platform's setup (migrations, CA, bootstrap token,
 * an in-process API), seeding N certificates for a path, and one bulk reissue of them measured like the floor.
 *   bare  no destinations, the API's defaults (validity from the team policy)
 *   full  the incident path: a file destination verified on a TLS endpoint, superseded versions revoked
 * Both bulk operations run at the same window and rate (CERTFLOW_BULK_MAX_CONCURRENT / _MAX_PER_SECOND).
 */
import { Client, Connection } from '@temporalio/client';
import { and, count, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import { ensureCaHierarchy } from '../activities/ca-bootstrap.js';
import { createApp } from '../api/app.js';
import { workerSealingKey } from '../ca/destination-secrets.js';
import { LOOPBACK_RANGES } from '../core/destination-hosts.js';
import { EMPTY_COUNTS, type BulkCounts, type BulkProgress, type BulkReissueInput } from '../core/bulk.js';
import { bulkProgressQuery, bulkWorkflowId } from '../contracts/bulk-messages.js';
import { statusQuery } from '../contracts/lifecycle-messages.js';
import { AuditKey } from '../db/audit-chain.js';
import { insertBulkOperation } from '../db/bulk.js';
import { createDatabase, type Database } from '../db/database.js';
import { newId } from '../db/ids.js';
import { applyMigrations } from '../db/migrate.js';
import { createPool } from '../db/postgres-pool.js';
import { certificates, certificateVersions, deliveries } from '../db/schema.js';
import { ensureBootstrapToken } from '../db/tokens.js';
import { startMeter, type MeteredProcesses, type PhaseFigures } from './bulk-meter.js';
import { meanCycleHistory, type CycleHistory } from './cycle-history.js';

export type BenchPath = 'bare' | 'full';
export const BENCH_PATHS: readonly BenchPath[] = ['bare', 'full'];

const SEED_CONCURRENCY = 48;
const STALL_REPORT_MS = 30_000;

export interface CertflowSettings {
  adminToken: string;
  kekHex: string;
  auditKeyHex: string;
  taskQueue: string;
  deliveryRoot: string;
  tlsPort: number;
  window: number;
  maxPerSecond: number;
}

export interface BulkResult {
  path: BenchPath;
  n: number;
  seedSeconds: number;
  figures: PhaseFigures;
  counts: BulkCounts;
  /** Certificates with a new active generation-2 version. */
  renewed: number;
  /** renewNow sent (bulk item registered) → outcome recorded, per certificate, ms. */
  latencyMs: { p50: number; p99: number; max: number; outcome: string; count: number };
  cycleHistory: CycleHistory;
  /** Certflow's database: bytes added by seeding (per certificate) and by the reissue (per renewal). */
  databaseBytes: { perCertificate: number; perRenewal: number };
  /** Temporal's databases on Postgres (postgres topologies): bytes added by the reissue per renewal. */
  temporalDatabaseBytesPerRenewal: number | null;
}

export interface CertflowBench {
  db: Database;
  client: Client;
  app: ReturnType<typeof createApp>;
  close(): Promise<void>;
}

/** Records when each bulk item was registered (just before its renewNow is sent): a table and trigger of the benchmark's own, not the product's. */
const SENT_AT_TRIGGER = `
create table if not exists bench_bulk_sent (bulk_id text not null, certificate_id text not null, sent_at timestamptz not null default clock_timestamp(), primary key (bulk_id, certificate_id));
create or replace function bench_bulk_sent() returns trigger language plpgsql as $$
begin insert into bench_bulk_sent (bulk_id, certificate_id) values (new.bulk_id, new.certificate_id) on conflict do nothing; return new; end $$;
drop trigger if exists bench_bulk_sent on bulk_items;
create trigger bench_bulk_sent after insert on bulk_items for each row execute function bench_bulk_sent();
`;

export async function setUpCertflow(settings: CertflowSettings, temporalAddress: string, databaseUrl: string): Promise<CertflowBench> {
  const pool = createPool(databaseUrl, () => undefined);
  await applyMigrations(pool);
  await pool.query(SENT_AT_TRIGGER);
  const db = createDatabase(pool, { auditKey: AuditKey.fromSecret(Buffer.from(settings.auditKeyHex, 'hex')) });
  const kek = Buffer.from(settings.kekHex, 'hex');
  await ensureCaHierarchy(db, kek, { organization: 'Certflow Bench', publicUrl: 'http://127.0.0.1:8080', now: new Date(), log: () => undefined });
  await ensureBootstrapToken(db, settings.adminToken);
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection });
  const app = createApp({
    db,
    temporal: client,
    taskQueue: settings.taskQueue,
    now: () => new Date(),
    sealingPublicKey: workerSealingKey(kek).publicKey,
    temporalUiUrl: 'http://127.0.0.1:8233',
    fileDestinationRoot: settings.deliveryRoot,
    // The TLS endpoint is on loopback, as the workers' CERTFLOW_ALLOW_PRIVATE_DESTINATIONS=loopback allows.
    destinationRules: { services: [], allowedExceptions: [...LOOPBACK_RANGES], extraDenied: [] },
    checkReadiness: async () => ({ postgres: true, temporal: true }),
  });
  return {
    db,
    client,
    app,
    async close() {
      await connection.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

async function api(bench: CertflowBench, token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return bench.app.request(path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

/** A team for one path and N certificates in it, all active (issued, delivered, verified where the path verifies). */
export async function seedPath(bench: CertflowBench, settings: CertflowSettings, path: BenchPath, n: number, label: string): Promise<{ teamId: string; ids: string[]; seconds: number }> {
  const teamName = `bench-${path}-${Date.now().toString(36)}`;
  const team = await api(bench, settings.adminToken, 'POST', '/v1/teams', { name: teamName, policy: { allowedDomains: ['bench.test'], maxValidity: 'P30D', destinationHosts: { zones: [], cidrs: ['127.0.0.0/8'], ports: [settings.tlsPort] } } });
  if (team.status !== 201) throw new Error(`creating team ${teamName}: ${team.status} ${await team.text()}`);
  const { id: teamId } = (await team.json()) as { id: string };
  const ids: string[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      for (let index = next++; index < n; index = next++) {
        const name = `${path[0]}${index}-${teamName.slice(-6)}`;
        const body =
          path === 'bare'
            ? { team: teamName, dnsNames: [`${name}.bench.test`] }
            : {
                team: teamName,
                dnsNames: [`${name}.bench.test`],
                validity: 'P7D',
                destinations: [{ type: 'file', directory: name, verify: { endpoints: [{ host: '127.0.0.1', port: settings.tlsPort }], timeout: 'PT120S' } }],
              };
        const response = await api(bench, settings.adminToken, 'POST', '/v1/certificates', body);
        if (response.status !== 202) throw new Error(`seeding ${name}: ${response.status} ${await response.text()}`);
        ids.push(((await response.json()) as { id: string }).id);
      }
    }),
  );
  // Active is set once issued; on the full path a certificate is seeded once its delivery is verified too.
  for (;;) {
    const [row] = await bench.db.select({ active: count() }).from(certificates).where(and(eq(certificates.teamId, teamId), eq(certificates.state, 'active')));
    const [delivered] =
      path === 'full'
        ? await bench.db
            .select({ verified: count() })
            .from(deliveries)
            .innerJoin(certificateVersions, eq(certificateVersions.id, deliveries.versionId))
            .innerJoin(certificates, eq(certificates.id, certificateVersions.certificateId))
            .where(and(eq(certificates.teamId, teamId), isNotNull(deliveries.verifiedAt)))
        : [{ verified: row!.active }];
    process.stdout.write(`\r  ${label}: seeding ${row!.active}/${n} active, ${delivered!.verified} verified (${((performance.now() - started) / 1000).toFixed(0)} s)   `);
    if (row!.active >= n && delivered!.verified >= n) break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`\r  ${label}: seeded ${n} in ${seconds.toFixed(1)} s (${(n / seconds).toFixed(1)}/s)          \n`);
  return { teamId, ids, seconds };
}

async function databaseSize(bench: CertflowBench, name?: string): Promise<number> {
  const result = await bench.db.execute<{ bytes: string }>(name ? sql`select pg_database_size(${name})::text as bytes` : sql`select pg_database_size(current_database())::text as bytes`);
  return Number(result.rows[0]!.bytes);
}

async function temporalDatabasesSize(bench: CertflowBench): Promise<number | null> {
  const result = await bench.db.execute<{ bytes: string | null }>(sql`select sum(pg_database_size(datname))::text as bytes from pg_database where datname in ('temporal', 'temporal_visibility')`);
  return result.rows[0]?.bytes ? Number(result.rows[0].bytes) : null;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Seeds a path, then measures one bulk reissue of it. */
export async function runBulk(opts: {
  bench: CertflowBench;
  settings: CertflowSettings;
  path: BenchPath;
  n: number;
  processes: MeteredProcesses;
  databaseUrl: string;
  label: string;
}): Promise<BulkResult> {
  const { bench, settings, path, n, label } = opts;
  const sizeBeforeSeed = await databaseSize(bench);
  const seeded = await seedPath(bench, settings, path, n, label);
  const sizeBeforeBulk = await databaseSize(bench);
  const temporalBefore = await temporalDatabasesSize(bench);

  const bulkId = newId('blk');
  const input: BulkReissueInput = {
    bulkId,
    selector: { teamIds: [seeded.teamId] },
    options: { reason: `benchmark (${path})`, maxConcurrent: settings.window, maxPerSecond: settings.maxPerSecond, revokeSuperseded: path === 'full' },
  };
  await insertBulkOperation(bench.db, { id: bulkId, selector: input.selector, options: input.options, state: 'running', counts: EMPTY_COUNTS, workflowId: bulkWorkflowId(bulkId), createdBy: 'bench' });
  const meter = await startMeter(opts.processes, opts.databaseUrl);
  const handle = await bench.client.workflow.start('bulkReissue', { workflowId: bulkWorkflowId(bulkId), taskQueue: settings.taskQueue, args: [input] });
  const done = handle.result() as Promise<BulkProgress>;
  let finished: BulkProgress | null = null;
  void done.then((value) => (finished = value), () => undefined);
  let lastEnded = -1;
  let lastChange = Date.now();
  while (!finished) {
    const progress = await handle.query(bulkProgressQuery).catch(() => null);
    if (progress) {
      const ended = progress.counts.verified + progress.counts.rolled_out + progress.counts.reissued + progress.counts.failed + progress.counts.skipped;
      if (ended !== lastEnded) [lastEnded, lastChange] = [ended, Date.now()];
      else if (Date.now() - lastChange > STALL_REPORT_MS) {
        // No outcome for a while: show where one renewal under way is, to tell a stall from a slow run.
        lastChange = Date.now();
        const [row] = await bench.db.select({ workflowId: certificates.workflowId }).from(certificates).where(inArray(certificates.id, seeded.ids.slice(-1)));
        const status = await bench.client.workflow.getHandle(row!.workflowId).query(statusQuery).catch((error: unknown) => String(error));
        process.stdout.write(`\n  ${label}: no outcome for ${STALL_REPORT_MS / 1000} s; the last certificate's lifecycle: ${JSON.stringify(status)}\n`);
      }
      process.stdout.write(`\r  ${label}: bulk ${ended}/${progress.counts.selected} done, ${progress.inFlight} in flight, ${progress.ratePerSecond.toFixed(1)}/s   `);
    }
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 1_000))]);
  }
  const figures = await meter.stop();
  const result = await done;
  process.stdout.write(`\r  ${label}: bulk reissue of ${n} in ${figures.seconds.toFixed(1)} s (${(n / figures.seconds).toFixed(1)}/s): ${JSON.stringify(result.counts)}\n`);
  const sizeAfterBulk = await databaseSize(bench);
  const temporalAfter = await temporalDatabasesSize(bench);

  const renewed = await bench.db
    .select({ id: certificateVersions.id })
    .from(certificateVersions)
    .where(and(inArray(certificateVersions.certificateId, seeded.ids), eq(certificateVersions.generation, 2), eq(certificateVersions.status, 'active')));
  const latencies = await bench.db.execute<{ ms: number; outcome: string }>(
    sql`select extract(epoch from (i.updated_at - s.sent_at)) * 1000 as ms, i.outcome from bulk_items i join bench_bulk_sent s using (bulk_id, certificate_id) where i.bulk_id = ${bulkId} and i.outcome is not null`,
  );
  const outcome = path === 'full' ? 'verified' : 'reissued';
  const ms = latencies.rows.filter((row) => row.outcome === outcome).map((row) => Number(row.ms)).sort((a, b) => a - b);
  const sampleIds = await bench.db.select({ workflowId: certificates.workflowId }).from(certificates).where(inArray(certificates.id, seeded.ids.slice(0, 5)));
  return {
    path,
    n,
    seedSeconds: seeded.seconds,
    figures,
    counts: result.counts,
    renewed: renewed.length,
    latencyMs: { p50: percentile(ms, 50), p99: percentile(ms, 99), max: ms.at(-1) ?? NaN, outcome, count: ms.length },
    cycleHistory: await meanCycleHistory(bench.client, sampleIds.map((row) => row.workflowId)),
    databaseBytes: { perCertificate: (sizeBeforeBulk - sizeBeforeSeed) / n, perRenewal: (sizeAfterBulk - sizeBeforeBulk) / n },
    temporalDatabaseBytesPerRenewal: temporalBefore !== null && temporalAfter !== null ? (temporalAfter - temporalBefore) / n : null,
  };
}
