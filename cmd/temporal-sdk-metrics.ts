/**
 * The Temporal SDK's own worker metrics (task slots, poll latency, sticky cache, activity and workflow task
 * latencies: `temporal_*`), served by its Rust core on CERTFLOW_TEMPORAL_METRICS_ADDRESS in Prometheus format,
 * with `_total` counters and durations in seconds (Prometheus conventions). Unset: not exported.
 */
import type { RuntimeOptions } from '@temporalio/worker';

export function temporalSdkTelemetry(bindAddress: string | null): Pick<RuntimeOptions, 'telemetryOptions'> {
  if (!bindAddress) return {};
  return {
    telemetryOptions: {
      metrics: {
        metricPrefix: 'temporal_',
        prometheus: { bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true },
      },
    },
  };
}
