/**
 * A benchmark's own worker (the floor's, the ACME ceiling's): `workflows` on CERTFLOW_TASK_QUEUE of the
 * Temporal server at TEMPORAL_ADDRESS, with the real worker's defaults for the limits that matter here.
 * Prints the line spawnPollingWorker (bench/processes.ts) waits for; stops on SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';

export async function runBenchWorker(workflows: URL, activities: object): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const taskQueue = process.env.CERTFLOW_TASK_QUEUE!;
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: fileURLToPath(workflows),
    activities,
    // The real worker's defaults (cmd/config.ts).
    maxConcurrentLocalActivityExecutions: 500,
    maxConcurrentWorkflowTaskExecutions: 100,
  });
  process.once('SIGTERM', () => worker.shutdown());
  console.log(`worker polling task queue ${taskQueue}`);
  await worker.run();
  await connection.close();
}
