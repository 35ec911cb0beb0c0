/**
 * inventoryScan — one scan of TLS endpoints for a team's inventory (`POST /v1/teams/:id/scans`),
 * workflow id `scan/<scanId>`: each endpoint is probed by an activity (timeout, retries), at most
 * SCAN_CONCURRENCY at a time; an endpoint that fails after its retries is reported, never fatal.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ScanEndpointResult } from '../activities/inventory-scan.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../core/errors.js';
import type { ScanEndpoint } from '../core/scan-targets.js';

const SCAN_CONCURRENCY = 8;

const { scanEndpoint } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

export interface InventoryScanInput {
  scanId: string;
  teamId: string;
  endpoints: ScanEndpoint[];
  /** SNI name to send to every endpoint; absent: the endpoint's host when it is a name. */
  serverName?: string;
  requestedBy: string;
  requestedByPrincipal: string | null;
}

export type ScanOutcome = ScanEndpointResult | { endpoint: string; outcome: 'failed'; error: string };

export async function inventoryScan(input: InventoryScanInput): Promise<{ scanId: string; results: ScanOutcome[] }> {
  const results: ScanOutcome[] = new Array(input.endpoints.length);
  let next = 0;
  const lane = async () => {
    while (next < input.endpoints.length) {
      const index = next++;
      const target = input.endpoints[index]!;
      try {
        results[index] = await scanEndpoint({
          scanId: input.scanId,
          teamId: input.teamId,
          target,
          ...(input.serverName ? { serverName: input.serverName } : {}),
          requestedBy: input.requestedBy,
          requestedByPrincipal: input.requestedByPrincipal,
        });
      } catch (error) {
        const cause = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause.message : (error as Error).message;
        results[index] = { endpoint: target.endpoint, outcome: 'failed', error: cause };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SCAN_CONCURRENCY, input.endpoints.length) }, lane));
  return { scanId: input.scanId, results };
}
