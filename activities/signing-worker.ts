/**
 * The worker of the signing task queue (core/signing-queue.ts): only the issuance activity, at most
 * `maxPerSecond` dispatched per second over every worker (the Temporal server enforces the task
 * queue's rate), and at most `maxConcurrent` at once in this process.
 */
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Activities } from './index.js';
import { signingTaskQueue } from '../core/signing-queue.js';

export interface SigningWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  /** The lifecycle's task queue; the signing queue is named after it. */
  taskQueue: string;
  activities: Pick<Activities, 'issueCertificate'>;
  maxPerSecond?: number | null;
  maxConcurrent?: number;
  interceptors?: WorkerOptions['interceptors'];
}

export const DEFAULT_SIGNING_LIMITS = { maxPerSecond: 200, maxConcurrent: 20 } as const;

export function createSigningWorker(options: SigningWorkerOptions): Promise<Worker> {
  const maxPerSecond = options.maxPerSecond === undefined ? DEFAULT_SIGNING_LIMITS.maxPerSecond : options.maxPerSecond;
  return Worker.create({
    connection: options.connection,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    taskQueue: signingTaskQueue(options.taskQueue),
    activities: { issueCertificate: options.activities.issueCertificate },
    maxConcurrentActivityTaskExecutions: options.maxConcurrent ?? DEFAULT_SIGNING_LIMITS.maxConcurrent,
    ...(maxPerSecond !== null ? { maxTaskQueueActivitiesPerSecond: maxPerSecond } : {}),
    ...(options.interceptors ? { interceptors: options.interceptors } : {}),
  });
}
