/**
 * A Temporal dev server of the test's own, on a SQLite file so that it can be killed and restarted,
 * with a harness, an in-process worker and a team on it. What it starts is stopped by `cleanups`
 * (run in reverse by the file's afterAll).
 */
import { join } from 'node:path';
import { inject } from 'vitest';
import { findFreePort } from '../../devservices/free-port.js';
import { startTemporalDevServer } from '../../devservices/temporal-dev-server.js';
import { createHarness, createTeamWithTokens, startInProcessWorker, type Harness, type Team } from './harness.js';

export interface OwnTemporal {
  harness: Harness;
  team: Team;
  /** SIGKILLs the dev server and starts it again on the same file and port. */
  killAndRestart(): Promise<void>;
}

export async function startOwnTemporal(name: string, cleanups: Array<() => Promise<void>>): Promise<OwnTemporal> {
  const dbFile = join(inject('tempDir'), `${name}-temporal`, 'temporal.db');
  const port = await findFreePort();
  let server = await startTemporalDevServer({ dbFile, port, uiPort: null });
  cleanups.push(() => server.stop());
  const harness = await createHarness(name, { temporalAddress: server.address });
  cleanups.push(() => harness.close());
  const worker = await startInProcessWorker(harness);
  cleanups.push(() => worker.stop());
  const team = await createTeamWithTokens(harness);
  return {
    harness,
    team,
    async killAndRestart() {
      await server.kill();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      server = await startTemporalDevServer({ dbFile, port, uiPort: null });
      cleanups.push(() => server.stop());
    },
  };
}
