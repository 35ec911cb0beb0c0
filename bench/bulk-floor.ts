/**
 * The floor of bench/bulk.ts: on the same Temporal server, N workflows of bench/floor-workflows.ts (one per
 * "certificate", started and up before the measurement), then one renewal cycle of each — a signal, through a
 * sliding window like the bulk operation's — timed from the first signal to the last run being up. As many
 * floor workers (bench/floor-worker.ts, child processes) as the topology has Certflow workers.
 */
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import { spawnPollingWorker } from './processes.js';
import { closedCycleHistory } from './cycle-history.js';
import { startMeter, type MeteredProcesses, type PhaseFigures } from './bulk-meter.js';
import type { FloorInput } from './floor-workflows.js';

const TASK_QUEUE = 'bench-floor';
const START_CONCURRENCY = 32;

export interface FloorResult {
  n: number;
  startSeconds: number;
  figures: PhaseFigures;
  /** One closed run (a whole cycle): events and encoded bytes of its history. */
  cycleHistory: { events: number; bytes: number };
}

function startFloorWorker(temporalAddress: string): Promise<ChildProcess> {
  return spawnPollingWorker('bench/floor-worker.ts', { TEMPORAL_ADDRESS: temporalAddress, CERTFLOW_TASK_QUEUE: TASK_QUEUE }, { ipc: true });
}

export async function runFloor(opts: {
  temporalAddress: string;
  workers: number;
  processes: MeteredProcesses;
  databaseUrl: string;
  n: number;
  window: number;
  label: string;
  onChild: (child: ChildProcess) => void;
}): Promise<FloorResult> {
  const { n, window } = opts;
  const workers = await Promise.all(Array.from({ length: opts.workers }, () => startFloorWorker(opts.temporalAddress)));
  workers.forEach(opts.onChild);
  const connection = await Connection.connect({ address: opts.temporalAddress });
  try {
    const client = new Client({ connection });
    // Which generation each floor workflow's newest run is at; a run reports itself up from its local activity.
    const up = new Map<string, number>();
    let waiter: { generation: number; count: number; resolve: () => void } | null = null;
    const upAt = new Map<number, number>();
    const onUp = ({ id, generation }: FloorInput) => {
      if ((up.get(id) ?? 0) >= generation) return;
      up.set(id, generation);
      upAt.set(generation, (upAt.get(generation) ?? 0) + 1);
      onRenewed?.(id);
      if (waiter && (upAt.get(waiter.generation) ?? 0) >= waiter.count) waiter.resolve();
    };
    let onRenewed: ((id: string) => void) | null = null;
    for (const worker of workers) worker.on('message', (message) => onUp(message as FloorInput));
    const untilUp = (generation: number) => new Promise<void>((resolve) => ((upAt.get(generation) ?? 0) >= n ? resolve() : (waiter = { generation, count: n, resolve })));

    const run = `${Date.now().toString(36)}`;
    const ids = Array.from({ length: n }, (_, index) => `floor-${run}-${index}`);
    const startStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: START_CONCURRENCY }, async () => {
        for (let index = next++; index < n; index = next++) {
          await client.workflow.start('floorLifecycle', {
            taskQueue: TASK_QUEUE,
            workflowId: ids[index]!,
            args: [{ id: ids[index]!, generation: 1 }],
            searchAttributes: { [SEARCH_ATTRIBUTE_KEYS.certState.name]: ['pending'] },
          });
        }
      }),
    );
    await untilUp(1);
    const startSeconds = (performance.now() - startStarted) / 1000;
    process.stdout.write(`  ${opts.label}: ${n} floor workflows started and up in ${startSeconds.toFixed(1)} s\n`);

    // The floor's workers are measured as the workers (the idle Certflow workers are counted too).
    const meter = await startMeter({ ...opts.processes, workers: [...opts.processes.workers, ...workers.map((worker) => worker.pid!)] }, opts.databaseUrl);
    let sent = 0;
    let inFlight = 0;
    let failure: unknown = null;
    const send = () => {
      while (inFlight < window && sent < n) {
        const id = ids[sent++]!;
        inFlight += 1;
        client.workflow
          .getHandle(id)
          .signal('floorRenew')
          .catch((error: unknown) => (failure = error));
      }
    };
    onRenewed = () => {
      inFlight -= 1;
      send();
    };
    const progress = setInterval(() => process.stdout.write(`\r  ${opts.label}: ${upAt.get(2) ?? 0}/${n} cycles   `), 1_000);
    send();
    await untilUp(2);
    clearInterval(progress);
    const figures = await meter.stop();
    process.stdout.write(`\r  ${opts.label}: ${n} cycles in ${figures.seconds.toFixed(1)} s (${(n / figures.seconds).toFixed(1)}/s)\n`);
    if (failure) throw failure;

    return { n, startSeconds, figures, cycleHistory: await closedCycleHistory(client, ids[0]!) };
  } finally {
    await connection.close();
    for (const worker of workers) worker.kill('SIGTERM');
  }
}
