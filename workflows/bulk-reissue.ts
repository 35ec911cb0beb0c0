/**
 * bulkReissue — workflow id `bulk/<id>`: renews every certificate the selector matches by sending
 * `renewNow(reason, bulkId)` to its lifecycle workflow (which stays the only owner of the
 * certificate), through a sliding window (`maxConcurrent` renewals under way) and a rate limit
 * (`maxPerSecond`). Each lifecycle records its outcome in the certificate's bulk_items row; the
 * operation collects those rows, and a safety net marks `skipped` the renewals that can no longer
 * report (lifecycle closed, certificate revoked), so every certificate taken ends with exactly one
 * outcome and the operation always finishes. Superseded versions are revoked only once their
 * replacement is out. Every step is retried until done (workflows/until-done.ts), with the failure
 * shown as `lastError`. Pages through the selection and continues as new to keep its history short;
 * `pause`, `resume`, `cancel` steer it, `progress` shows where it is.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  dueForLivenessCheck,
  EMPTY_COUNTS,
  mayRevokeSuperseded,
  nextLivenessCheckAt,
  progressOf,
  selectedOnceExhausted,
  sendBudget,
  type BulkCarry,
  type BulkOutcomeReport,
  type BulkProgress,
  type BulkReissueInput,
  type BulkState,
} from '../core/bulk.js';
import { untilDoneBackoffMs, type StepFailure } from '../core/until-done.js';
import { UNTIL_DONE_LOCAL_PRESETS, UNTIL_DONE_PRESETS } from './activity-options.js';
import { describeStepFailure, untilDone } from './until-done.js';
import { bulkProgressQuery, cancelBulkUpdate, pauseBulkUpdate, resumeBulkUpdate } from '../contracts/bulk-messages.js';

const { countBulkSelection, selectBulkPage, sendBulkRenewals, recordBulkProgress, checkStalledBulkItems } = proxyActivities<Activities>(UNTIL_DONE_PRESETS.records);
const { revokeBulkSuperseded } = proxyActivities<Activities>(UNTIL_DONE_PRESETS.publication);
const { collectBulkOutcomes } = proxyLocalActivities<Activities>(UNTIL_DONE_LOCAL_PRESETS.collect);

/** Certificates fetched per page of the selection. */
const PAGE_SIZE = 200;
/** Revocations gathered before they are made in one activity. */
const FLUSH_BATCH = 100;
/** Longest time revocations and counts wait in memory before they are written. */
const FLUSH_INTERVAL_MS = 2_000;
/** Pause between two collections of outcomes that found nothing new: from the first to the last, doubling. */
const COLLECT_INTERVAL_MS = { first: 250, last: 4_000 } as const;

export async function bulkReissue(input: BulkReissueInput): Promise<BulkProgress> {
  const { bulkId, selector, options } = input;
  const carry: BulkCarry = input.state ?? {
    after: null,
    exhausted: false,
    counts: { ...EMPTY_COUNTS },
    inFlight: [],
    paused: false,
    cancelRequested: false,
    startedAt: new Date(Date.now()).toISOString(),
  };
  const toRevoke: { certificateId: string; versionId: string }[] = [];
  let lastFlush = Date.now();
  /** Send times (ms) of the renewals started in the last second: the rate limit's window. */
  let recentSends: number[] = [];
  /** Counts changed by collected outcomes (already in bulk_items) and not yet written to the operation. */
  let countsUnwritten = false;
  let collectWaitMs: number = COLLECT_INTERVAL_MS.first;
  let collectFailures = 0;
  let lastError: StepFailure | null = null;

  let ended: BulkState | null = null;
  let endedAt: number | null = null;
  const state = (): BulkState => {
    if (ended) return ended;
    if (carry.cancelRequested) return carry.inFlight.length > 0 ? 'cancelling' : 'cancelled';
    if (carry.paused) return 'paused';
    return 'running';
  };
  const progress = (now: number) => progressOf(bulkId, state(), carry, now, lastError);
  const step = <T>(name: string, run: () => Promise<T>): Promise<T> => untilDone(name, run, (failure) => (lastError = failure));

  setHandler(bulkProgressQuery, () => progress(endedAt ?? Date.now()));
  const steering = [
    [pauseBulkUpdate, 'pause', () => (carry.paused = true)],
    [resumeBulkUpdate, 'resume', () => (carry.paused = false)],
    [cancelBulkUpdate, 'cancel', () => (carry.cancelRequested = true)],
  ] as const;
  for (const [update, action, steer] of steering) {
    setHandler(
      update,
      (_request: { by: string }) => {
        steer();
        return progress(Date.now());
      },
      { validator: (_request: { by: string }) => assertSteerable(carry, action) },
    );
  }

  /** Takes one certificate's recorded outcome; an outcome of a certificate no longer in flight is a duplicate. */
  function acceptOutcome(report: BulkOutcomeReport): void {
    const index = carry.inFlight.findIndex((item) => item.certificateId === report.certificateId);
    if (index < 0) return;
    carry.inFlight.splice(index, 1);
    carry.counts[report.outcome] += 1;
    countsUnwritten = true;
    if (options.revokeSuperseded && mayRevokeSuperseded(report.outcome) && report.oldVersionId && report.newVersionId) {
      toRevoke.push({ certificateId: report.certificateId, versionId: report.oldVersionId });
    }
  }

  async function flush(force: boolean): Promise<void> {
    const due = force || Date.now() - lastFlush >= FLUSH_INTERVAL_MS;
    if (toRevoke.length > 0 && (due || toRevoke.length >= FLUSH_BATCH)) {
      const batch = toRevoke.splice(0, toRevoke.length);
      await step('revoke-superseded', () => revokeBulkSuperseded({ bulkId, items: batch }));
      carry.counts.revoked += batch.length;
    }
    if (countsUnwritten && due) {
      countsUnwritten = false;
      await step('record-progress', () => recordBulkProgress({ bulkId, state: state(), counts: carry.counts }));
    }
    if (due) lastFlush = Date.now();
  }

  /**
   * Collects the outcomes lifecycles recorded for renewals in flight; returns how many were new.
   * Collections come further apart (doubling up to COLLECT_INTERVAL_MS.last) while nothing new turns
   * up; a failed collection is shown as lastError and the next one waits out a backoff.
   */
  async function collectOutcomes(): Promise<number> {
    if (carry.inFlight.length === 0) return 0;
    const certificateIds = carry.inFlight.map((item) => item.certificateId);
    let reports: BulkOutcomeReport[];
    try {
      reports = await collectBulkOutcomes({ bulkId, certificateIds });
    } catch (error) {
      if (isCancellation(error)) throw error;
      collectFailures += 1;
      lastError = describeStepFailure('collect-outcomes', error, collectFailures);
      collectWaitMs = Math.max(COLLECT_INTERVAL_MS.last, untilDoneBackoffMs(collectFailures));
      return 0;
    }
    if (collectFailures > 0 && lastError?.step === 'collect-outcomes') lastError = null;
    collectFailures = 0;
    const before = carry.inFlight.length;
    for (const report of reports) acceptOutcome(report);
    const collected = before - carry.inFlight.length;
    collectWaitMs = collected > 0 ? COLLECT_INTERVAL_MS.first : Math.min(collectWaitMs * 2, COLLECT_INTERVAL_MS.last);
    return collected;
  }

  /**
   * The safety net: renewals in flight for a while without an outcome get their lifecycle and
   * certificate checked; those that can no longer report are recorded `skipped` (first record wins,
   * so a late outcome of the lifecycle cannot count twice). Returns how many ended.
   */
  async function checkStalled(): Promise<number> {
    const now = Date.now();
    const due = dueForLivenessCheck(carry.inFlight, now);
    if (due.length === 0) return 0;
    const reports = await step('check-stalled', () => checkStalledBulkItems({ bulkId, certificateIds: due }));
    const checkedAt = new Date(Date.now()).toISOString();
    for (const item of carry.inFlight) {
      if (!due.includes(item.certificateId)) continue;
      item.checks = (item.checks ?? 0) + 1;
      item.checkedAt = checkedAt;
    }
    const before = carry.inFlight.length;
    for (const report of reports) acceptOutcome(report);
    return before - carry.inFlight.length;
  }

  /** Collects outcomes and runs the safety net where due; returns how many renewals ended. */
  async function gatherOutcomes(): Promise<number> {
    return (await collectOutcomes()) + (await checkStalled());
  }

  /**
   * Waits (on a timer, so the workflow task ends and queries and updates get through) until the next
   * collection or safety-net check is due, or `interrupt` holds.
   */
  async function awaitNextCollection(interrupt: () => boolean, maxWaitMs: number = COLLECT_INTERVAL_MS.last): Promise<void> {
    const nextCheck = nextLivenessCheckAt(carry.inFlight);
    const untilCheck = nextCheck === null ? Infinity : Math.max(1, nextCheck - Date.now());
    await condition(interrupt, Math.min(collectWaitMs, maxWaitMs, untilCheck));
  }

  /** Writes the final state: the operation's row never stays `running` once the workflow has ended. */
  async function finish(finalState: BulkState): Promise<BulkProgress> {
    ended = finalState;
    endedAt = Date.now();
    await step('record-final-state', () => recordBulkProgress({ bulkId, state: finalState, counts: carry.counts, finished: true }));
    return { ...progress(endedAt), state: finalState };
  }

  async function run(): Promise<BulkProgress> {
    if (!input.state) {
      carry.counts.selected = await step('count-selection', () => countBulkSelection({ selector }));
      await step('record-progress', () => recordBulkProgress({ bulkId, state: 'running', counts: carry.counts }));
    }

    let buffer: Awaited<ReturnType<typeof selectBulkPage>> = [];
    while (!carry.cancelRequested) {
      if (carry.paused) {
        await step('record-progress', () => recordBulkProgress({ bulkId, state: 'paused', counts: carry.counts }));
        // Renewals under way finish during a pause: keep collecting them until none is left.
        const released = () => !carry.paused || carry.cancelRequested;
        while (carry.inFlight.length > 0 && !released() && !workflowInfo().continueAsNewSuggested) {
          await gatherOutcomes();
          if (carry.inFlight.length > 0) await awaitNextCollection(released);
          await flush(false);
        }
        if (carry.inFlight.length > 0 && !released()) break; // continue as new, still paused
        await condition(released);
        continue;
      }
      if (buffer.length === 0) {
        if (carry.exhausted) break;
        if (workflowInfo().continueAsNewSuggested) break;
        // carry.after is the last certificate handled, so a page starts right after it.
        const after = carry.after;
        buffer = await step('select-page', () => selectBulkPage({ selector, after, limit: PAGE_SIZE }));
        if (buffer.length < PAGE_SIZE) carry.exhausted = true;
        continue;
      }
      const now = Date.now();
      recentSends = recentSends.filter((at) => now - at < 1_000);
      const budget = sendBudget({ maxConcurrent: options.maxConcurrent, inFlight: carry.inFlight.length, maxPerSecond: options.maxPerSecond, sentInLastSecond: recentSends.length });
      if (budget === 0) {
        // Wait for a slot in the window or for the rate window to move on, whichever comes first.
        const rateLimited = recentSends.length >= options.maxPerSecond;
        const rateWaitMs = rateLimited ? Math.max(1, 1_000 - (now - recentSends[0]!)) : FLUSH_INTERVAL_MS;
        // Ended renewals free slots: send again at once (the send ends the workflow task).
        if ((await gatherOutcomes()) > 0 && !rateLimited) continue;
        await awaitNextCollection(() => carry.paused || carry.cancelRequested, rateWaitMs);
        await flush(false);
        continue;
      }
      const batch = buffer.splice(0, budget);
      const sentAt = new Date(Date.now()).toISOString();
      // In flight before sending: the lifecycle may record its outcome before the activity returns.
      for (const target of batch) carry.inFlight.push({ certificateId: target.certificateId, oldVersionId: target.oldVersionId, sentAt });
      const result = await step('send-renewals', () => sendBulkRenewals({ bulkId, reason: options.reason, targets: batch }));
      carry.after = batch[batch.length - 1]!.certificateId;
      for (const skipped of result.skipped) {
        const index = carry.inFlight.findIndex((item) => item.certificateId === skipped.certificateId);
        if (index >= 0) carry.inFlight.splice(index, 1);
        carry.counts.skipped += 1;
      }
      carry.counts.sent += result.sent.length;
      const sentNow = Date.now();
      for (let i = 0; i < result.sent.length; i++) recentSends.push(sentNow);
      await flush(false);
    }

    const selectionDone = carry.exhausted && buffer.length === 0;
    if (!carry.cancelRequested && !selectionDone) {
      // The history grew long: continue with the same state; unsent certificates are selected again.
      await flush(true);
      await condition(allHandlersFinished);
      return continueAsNew<typeof bulkReissue>({ bulkId, selector, options, state: { ...carry, exhausted: false } });
    }
    if (selectionDone && !carry.cancelRequested) carry.counts.selected = selectedOnceExhausted(carry.counts, carry.inFlight.length);

    // Nothing more to send: wait for the renewals under way, writing counts as they come.
    while (carry.inFlight.length > 0) {
      await gatherOutcomes();
      if (carry.inFlight.length > 0) await awaitNextCollection(() => false);
      await flush(false);
      if (workflowInfo().continueAsNewSuggested && carry.inFlight.length > 0) {
        await flush(true);
        await condition(allHandlersFinished);
        return continueAsNew<typeof bulkReissue>({ bulkId, selector, options, state: carry });
      }
    }
    await flush(true);
    const result = await finish(carry.cancelRequested ? 'cancelled' : 'completed');
    await condition(allHandlersFinished);
    return result;
  }

  try {
    return await run();
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    // Cancelled through Temporal (e.g. its drill was), or a business error: say so in the row, then end as Temporal says.
    await CancellationScope.nonCancellable(() => finish(isCancellation(error) ? 'cancelled' : 'failed'));
    throw error;
  }
}

function assertSteerable(carry: BulkCarry, action: string): void {
  if (carry.cancelRequested) throw new Error(`the bulk operation is cancelled; it cannot ${action}`);
}
