/**
 * The floor's worker (bench/bulk.ts starts it as a child process with an IPC channel, like the real worker):
 * bench/floor-workflows.ts on its own task queue; its local activity tells the parent, over IPC, that a run
 * is up. TEMPORAL_ADDRESS and CERTFLOW_TASK_QUEUE from the environment; stops on SIGTERM.
 */
import { runBenchWorker } from './bench-worker.js';
import type { FloorActivities } from './floor-workflows.js';

const activities: FloorActivities = {
  floorRunUp: async ({ id, generation }) => {
    process.send?.({ id, generation });
  },
};
await runBenchWorker(new URL('./floor-workflows.ts', import.meta.url), activities);
