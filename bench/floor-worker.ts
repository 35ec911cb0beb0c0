/**
 * The floor's worker (bench/bulk.ts starts it as a child process with an IPC channel, like the real worker):
 * bench/floor-workflows.ts on its own task queue; its local activity tells the parent, over IPC, that a run
 * is up. TEMPORAL_ADDRESS and CERTFLOW_TASK_QUEUE from the environment; stops on SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { FloorActivities } from './floor-workflows.js';

Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
const taskQueue = process.env.CERTFLOW_TASK_QUEUE!;
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
const activities: FloorActivities = {
  floorRunUp: async ({ id, generation }) => {
    process.send?.({ id, generation });
  },
};
const worker = await Worker.create({
  connection,
  taskQueue,
  workflowsPath: fileURLToPath(new URL('./floor-workflows.ts', import.meta.url)),
  activities,
  // The real worker's defaults (cmd/config.ts).
  maxConcurrentLocalActivityExecutions: 500,
  maxConcurrentWorkflowTaskExecutions: 100,
});
process.once('SIGTERM', () => worker.shutdown());
console.log(`worker polling task queue ${taskQueue}`);
await worker.run();
await connection.close();
