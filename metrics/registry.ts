/**
 * The Prometheus registry of one Certflow process (API or worker). Each process builds its own in its
 * composition root (cmd/) and hands it to what records metrics; there is no global registry.
 *
 * To add metrics: define them in a `create…Metrics(registry)` function next to the others (api-metrics.ts,
 * worker-metrics.ts), following the conventions below, and add a row to docs/operations.md "Metrics".
 *  - names `certflow_<what>_<unit>`, base units (`_seconds`, `_bytes`), counters end in `_total`,
 *    points in time are `_timestamp_seconds`;
 *  - labels only from bounded sets: fixed lists (states, reasons, destination types), issuer ids, and team
 *    names through core/metrics-labels.ts `teamLabels` (capped); never certificate ids, names or serials;
 *  - a labelled counter is initialised to 0 for its known label values, so `increase()` sees its first event.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export { Registry };

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  // Process CPU, memory, event loop lag, GC: `process_*` and `nodejs_*`.
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges `_total` (a counter's suffix, refused by `promtool check metrics`); the same
  // figures stay available by type as nodejs_active_handles, nodejs_active_requests and nodejs_active_resources.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  return registry;
}
