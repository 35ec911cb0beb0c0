/**
 * The engine's floor for bench/bulk.ts: a do-nothing workflow in the shape of a certificate's renewal.
 * Each run does one workflow task with a local activity (which tells the benchmark this run is up, in
 * issueCertificate's place) and a search-attribute upsert, then waits for a signal with a timer (the
 * lifecycle's renewal timer); the signal ends the run with continueAsNew. So one cycle = signal →
 * continueAsNew → one task with a local activity and an upsert → wait. Only @temporalio/workflow and core/.
 */
import { condition, continueAsNew, defineSignal, proxyLocalActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';

export interface FloorInput {
  id: string;
  generation: number;
}

export interface FloorActivities {
  floorRunUp(input: FloorInput): Promise<void>;
}

export const floorRenewSignal = defineSignal('floorRenew');

const { floorRunUp } = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '20 seconds', retry: { maximumAttempts: 2 } });

export async function floorLifecycle(input: FloorInput): Promise<void> {
  let renew = false;
  setHandler(floorRenewSignal, () => {
    renew = true;
  });
  await floorRunUp(input);
  upsertSearchAttributes([
    { key: SEARCH_ATTRIBUTE_KEYS.certState, value: 'active' },
    { key: SEARCH_ATTRIBUTE_KEYS.certStateSince, value: new Date(Date.now()) },
  ]);
  await condition(() => renew, '7 days');
  return continueAsNew<typeof floorLifecycle>({ id: input.id, generation: input.generation + 1 });
}
