/**
 * What the worker adds when tracing is on (@temporalio/interceptors-opentelemetry, as its docs set it
 * up): the workflow interceptors, which run inside the workflow sandbox and hand their spans to the
 * `exporter` sink, and the activity interceptors, whose span continues the workflow's trace from the
 * activity's headers. Every Postgres query and outgoing call of an activity then nests under it.
 */
import { createRequire } from 'node:module';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client/index.js';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker/index.js';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { Tracing } from './tracing.js';

/** The module exporting `interceptors` for the workflow sandbox (bundled with the workflows). */
export const WORKFLOW_TRACING_INTERCEPTORS = createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

export function workerTracingOptions(tracing: Tracing): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  return {
    interceptors: {
      workflowModules: [WORKFLOW_TRACING_INTERCEPTORS],
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}

/** The Temporal client's interceptors: starting, signalling, updating and querying a workflow are spans whose context the workflow continues. */
export function clientTracingInterceptors(tracing: Tracing | null): ClientInterceptors | undefined {
  return tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}
