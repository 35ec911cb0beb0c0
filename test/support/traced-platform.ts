/**
 * The harness's platform with tracing on, as cmd/ wires it: the app with its request spans, a
 * Temporal client with the OpenTelemetry client interceptor, and an in-process worker with the
 * workflow interceptors (bundled into its workflow code), the activity interceptors and the span sink.
 */
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../activities/index.js';
import { createApp } from '../../api/app.js';
import type { Tracing } from '../../cmd/tracing.js';
import { clientTracingInterceptors, WORKFLOW_TRACING_INTERCEPTORS, workerTracingOptions } from '../../cmd/worker-tracing.js';
import { WORKFLOWS_PATH } from '../../workflows/workflows-path.js';
import { activityDeps, type Harness, type InProcessWorker } from './harness.js';
import { createSigningWorker } from '../../activities/signing-worker.js';

export function tracedApp(harness: Harness, tracing: Tracing): ReturnType<typeof createApp> {
  const temporal = new Client({ connection: harness.client.connection, namespace: harness.namespace, interceptors: clientTracingInterceptors(tracing) });
  return createApp({ ...harness.apiDeps, temporal, tracer: tracing.tracer }, (message, error) => console.error(message, error));
}

export async function startTracedWorker(harness: Harness, tracing: Tracing): Promise<InProcessWorker> {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: [WORKFLOW_TRACING_INTERCEPTORS], logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: harness.temporalAddress });
  const activities = createActivities(activityDeps(harness));
  const tracingOptions = workerTracingOptions(tracing);
  const worker = await Worker.create({
    ...tracingOptions,
    connection,
    namespace: harness.namespace,
    taskQueue: harness.taskQueue,
    workflowBundle,
    activities,
  });
  const signingWorker = await createSigningWorker({
    connection,
    namespace: harness.namespace,
    taskQueue: harness.taskQueue,
    activities,
    ...(tracingOptions.interceptors?.activity ? { interceptors: { activity: tracingOptions.interceptors.activity } } : {}),
  });
  const running = Promise.all([worker.run(), signingWorker.run()]);
  return {
    async stop() {
      for (const each of [worker, signingWorker]) if (each.getState() === 'RUNNING') each.shutdown();
      await running;
      await connection.close();
    },
  };
}
