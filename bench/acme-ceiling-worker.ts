/**
 * The ceiling's worker (bench/acme.ts starts it as a child process, like the real worker): the workflow
 * of bench/acme-ceiling-workflows.ts on its own task queue, with a local activity that answers at once.
 * TEMPORAL_ADDRESS and CERTFLOW_TASK_QUEUE from the environment; stops on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { runBenchWorker } from './bench-worker.js';
import type { VersionSummary } from '../core/types.js';
import type { CeilingActivities } from './acme-ceiling-workflows.js';

const activities: CeilingActivities = {
  ceilingIssue: async ({ generation }): Promise<VersionSummary> => {
    const now = new Date();
    return {
      versionId: `ver_${randomBytes(10).toString('hex')}`,
      generation,
      serial: randomBytes(16).toString('hex'),
      issuerId: 'iss_ceiling',
      issuedAt: now.toISOString(),
      notBefore: now.toISOString(),
      notAfter: new Date(now.getTime() + 7 * 86_400_000).toISOString(),
      fingerprintSha256: randomBytes(32).toString('hex'),
    };
  },
};
await runBenchWorker(new URL('./acme-ceiling-workflows.ts', import.meta.url), activities);
