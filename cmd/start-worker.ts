/** Composition root of the worker: database, CA, Temporal connection, activities, workflows. */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import { ensureCaHierarchy } from '../activities/ca-bootstrap.js';
import { IssuerStore } from '../activities/issuer-store.js';
import { createDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrate.js';
import type { Config } from './config.js';
import { loadKek } from './kek.js';
import { createPool } from './postgres-pool.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface RunningWorker {
  /** Resolves when the worker stops; rejects if it crashes. */
  done: Promise<void>;
  stop(): Promise<void>;
}

export async function startWorker(
  config: Config & { databaseUrl: string; temporalAddress: string },
  log: (message: string) => void,
): Promise<RunningWorker> {
  const pool = createPool(config.databaseUrl, log);
  try {
    await applyMigrations(pool);
    const db = createDatabase(pool);
    const kek = await loadKek(config, log);
    await ensureCaHierarchy(db, kek, { organization: 'Certflow', now: new Date(), log });

    const connection = await NativeConnection.connect({ address: config.temporalAddress });
    const worker = await Worker.create({
      connection,
      namespace: config.temporalNamespace,
      taskQueue: config.taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities({
        db,
        kek,
        issuers: new IssuerStore(db, kek),
        now: () => new Date(),
        fileDestinationRoot: config.fileDestinationRoot,
      }),
    });
    const done = worker.run().finally(async () => {
      await connection.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
    });
    return {
      done,
      async stop() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done;
      },
    };
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
}
