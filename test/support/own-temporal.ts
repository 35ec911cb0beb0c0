/**
 * A Temporal server of the test's own, so that it can be killed and restarted, with a harness, an in-process
 * worker and a team on it. On the default topology a dev server on a SQLite file; with CERTFLOW_IT_TOPOLOGY=postgres
 * the Temporal server on Postgres (an embedded Postgres of its own). What it starts is stopped by `cleanups`
 * (run in reverse by the file's afterAll).
 */
import { join } from 'node:path';
import { inject } from 'vitest';
import { startEmbeddedPostgres } from '../../devservices/embedded-postgres.js';
import { findFreePort } from '../../devservices/free-port.js';
import { startTemporalDevServer } from '../../devservices/temporal-dev-server.js';
import { startTemporalOnPostgres } from '../../devservices/temporal-on-postgres.js';
import { createHarness, createTeamWithTokens, startInProcessWorker, type Harness, type Team } from './harness.js';

export interface OwnTemporal {
  harness: Harness;
  team: Team;
  /** SIGKILLs the server and starts it again on the same storage and port. */
  killAndRestart(): Promise<void>;
}

interface RestartableTemporal {
  address: string;
  killAndRestart(): Promise<void>;
}

async function startDevServer(dir: string, cleanups: Array<() => Promise<void>>): Promise<RestartableTemporal> {
  const dbFile = join(dir, 'temporal.db');
  const port = await findFreePort();
  let server = await startTemporalDevServer({ dbFile, port, uiPort: null });
  cleanups.push(() => server.stop());
  return {
    address: server.address,
    async killAndRestart() {
      await server.kill();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      server = await startTemporalDevServer({ dbFile, port, uiPort: null });
      cleanups.push(() => server.stop());
    },
  };
}

async function startOnPostgres(dir: string, cleanups: Array<() => Promise<void>>): Promise<RestartableTemporal> {
  const postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres') });
  cleanups.push(() => postgres.stop());
  const temporal = await startTemporalOnPostgres({ databaseUrl: postgres.url, dir: join(dir, 'server'), log: () => undefined });
  cleanups.push(() => temporal.stop());
  return temporal;
}

export async function startOwnTemporal(name: string, cleanups: Array<() => Promise<void>>): Promise<OwnTemporal> {
  const dir = join(inject('tempDir'), `${name}-temporal`);
  const server = inject('topology') === 'postgres' ? await startOnPostgres(dir, cleanups) : await startDevServer(dir, cleanups);
  const harness = await createHarness(name, { temporalAddress: server.address });
  cleanups.push(() => harness.close());
  const worker = await startInProcessWorker(harness);
  cleanups.push(() => worker.stop());
  const team = await createTeamWithTokens(harness);
  return { harness, team, killAndRestart: () => server.killAndRestart() };
}
