/**
 * The ceiling's worker (bench/acme.ts starts it as a child process, like the real worker): the workflow
 * of bench/acme-ceiling-workflows.ts on its own task queue, with a local activity that answers at once.
 * TEMPORAL_ADDRESS and CERTFLOW_TASK_QUEUE from the environment; stops on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { VersionSummary } from '../core/types.js';
import type { CeilingActivities } from './acme-ceiling-workflows.js';

Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
const taskQueue = process.env.CERTFLOW_TASK_QUEUE!;
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
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
const worker = await Worker.create({
  connection,
  taskQueue,
  workflowsPath: fileURLToPath(new URL('./acme-ceiling-workflows.ts', import.meta.url)),
  activities,
  // The real worker's defaults (cmd/config.ts).
  maxConcurrentLocalActivityExecutions: 500,
  maxConcurrentWorkflowTaskExecutions: 100,
});
process.once('SIGTERM', () => worker.shutdown());
console.log(`worker polling task queue ${taskQueue}`);
await worker.run();
await connection.close();
