/**
 * bulkReissue — workflow id `bulk/<id>`: renews every certificate the selector matches by sending
 * `renewNow(reason, bulkId)` to its lifecycle workflow (which stays the only owner of the
 * certificate), through a sliding window (`maxConcurrent` renewals under way) and a rate limit
 * (`maxPerSecond`). Each lifecycle reports its outcome back (bulkOutcome signal); superseded
 * versions are revoked only once their replacement is out. Pages through the selection and
 * continues as new to keep its history short; `pause`, `resume`, `cancel` steer it, `progress`
 * shows where it is.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  EMPTY_COUNTS,
  finishedCount,
  mayRevokeSuperseded,
  progressOf,
  sendBudget,
  type BulkCarry,
  type BulkOutcomeReport,
  type BulkProgress,
  type BulkReissueInput,
  type BulkState,
} from '../core/bulk.js';
import { ACTIVITY_PRESETS, LOCAL_PRESETS } from './activity-options.js';
import { bulkOutcomeSignal, bulkProgressQuery, cancelBulkUpdate, pauseBulkUpdate, resumeBulkUpdate } from '../contracts/bulk-messages.js';

const { countBulkSelection, selectBulkPage, sendBulkRenewals, recordBulkProgress, revokeBulkSuperseded } = proxyActivities<Activities>(ACTIVITY_PRESETS.records);
const { collectBulkOutcomes } = proxyLocalActivities<Activities>(LOCAL_PRESETS.records);

/** patched() ids, one per change of the command sequence. */
export const BULK_PATCHES = {
  /**
   * Lean-renewal lifecycles record their outcome in bulk_items instead of signalling it: the
   * operation collects outcomes of its renewals in flight (a local activity), polling while it waits.
   */
  collectOutcomes: 'collect-outcomes-v1',
} as const;

/** Certificates fetched per page of the selection. */
const PAGE_SIZE = 200;
/** Outcomes or revocations gathered before they are written in one activity. */
const FLUSH_BATCH = 100;
/** Longest time outcomes wait in memory before they are written. */
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
    unrecorded: [],
  };
  const toRevoke: { certificateId: string; versionId: string }[] = [];
  let lastFlush = Date.now();
  /** Send times (ms) of the renewals started in the last second: the rate limit's window. */
  let recentSends: number[] = [];

  let ended: BulkState | null = null;
  let endedAt: number | null = null;
  const state = (): BulkState => {
    if (ended) return ended;
    if (carry.cancelRequested) return carry.inFlight.length > 0 ? 'cancelling' : 'cancelled';
    if (carry.paused) return 'paused';
    return 'running';
  };

  const collecting = patched(BULK_PATCHES.collectOutcomes);
  /** Counts changed by collected outcomes (already in bulk_items) and not yet written to the operation. */
  let countsUnwritten = false;
  let collectWaitMs: number = COLLECT_INTERVAL_MS.first;
  /** Outcomes signalled so far (by lifecycle runs older than lean-renewal-v1); a change wakes a wait. */
  let signalledOutcomes = 0;

  /** Takes one renewal's outcome, signalled (to be written) or collected (written by its lifecycle). */
  const acceptOutcome = (report: BulkOutcomeReport, recorded: boolean) => {
    const index = carry.inFlight.findIndex((item) => item.certificateId === report.certificateId);
    if (index < 0) return; // a duplicate, or a certificate this operation did not send
    carry.inFlight.splice(index, 1);
    carry.counts[report.outcome] += 1;
    if (recorded) countsUnwritten = true;
    else carry.unrecorded.push(report);
    if (options.revokeSuperseded && mayRevokeSuperseded(report.outcome) && report.oldVersionId && report.newVersionId) {
      toRevoke.push({ certificateId: report.certificateId, versionId: report.oldVersionId });
    }
  };

  setHandler(bulkProgressQuery, () => progressOf(bulkId, state(), carry, endedAt ?? Date.now()));
  setHandler(bulkOutcomeSignal, (report: BulkOutcomeReport) => {
    signalledOutcomes += 1;
    acceptOutcome(report, false);
  });
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
        return progressOf(bulkId, state(), carry, Date.now());
      },
      { validator: (_request: { by: string }) => assertSteerable(carry, action) },
    );
  }

  async function flush(force: boolean): Promise<void> {
    const due = force || Date.now() - lastFlush >= FLUSH_INTERVAL_MS;
    if (toRevoke.length > 0 && (due || toRevoke.length >= FLUSH_BATCH)) {
      const batch = toRevoke.splice(0, toRevoke.length);
      await revokeBulkSuperseded({ bulkId, items: batch });
      carry.counts.revoked += batch.length;
    }
    if ((carry.unrecorded.length > 0 || countsUnwritten) && (due || carry.unrecorded.length >= FLUSH_BATCH)) {
      const outcomes = carry.unrecorded.splice(0, carry.unrecorded.length);
      countsUnwritten = false;
      await recordBulkProgress({ bulkId, state: state(), counts: carry.counts, outcomes });
    }
    if (due) lastFlush = Date.now();
  }

  /**
   * Collects the outcomes lifecycles recorded for renewals in flight; returns how many were new. A
   * failed collection finds none: the next one tries again. Collections come further apart
   * (doubling up to COLLECT_INTERVAL_MS.last) while nothing new turns up.
   */
  async function collectOutcomes(): Promise<number> {
    if (carry.inFlight.length === 0) return 0;
    const certificateIds = carry.inFlight.map((item) => item.certificateId);
    const reports = await collectBulkOutcomes({ bulkId, certificateIds }).catch(() => []);
    const before = carry.inFlight.length;
    for (const report of reports) acceptOutcome(report, true);
    const collected = before - carry.inFlight.length;
    collectWaitMs = collected > 0 ? COLLECT_INTERVAL_MS.first : Math.min(collectWaitMs * 2, COLLECT_INTERVAL_MS.last);
    return collected;
  }

  /**
   * Waits (on a timer, so the workflow task ends and queries and updates get through) until the
   * next collection is due, an outcome is signalled, or `interrupt` holds.
   */
  async function awaitNextCollection(interrupt: () => boolean, maxWaitMs: number = COLLECT_INTERVAL_MS.last): Promise<void> {
    const seen = signalledOutcomes;
    await condition(() => signalledOutcomes !== seen || interrupt(), Math.min(collectWaitMs, maxWaitMs));
  }

  if (!input.state) {
    carry.counts.selected = await countBulkSelection({ selector });
    await recordBulkProgress({ bulkId, state: 'running', counts: carry.counts, outcomes: [] });
  }

  let buffer: Awaited<ReturnType<typeof selectBulkPage>> = [];
  while (!carry.cancelRequested) {
    if (carry.paused) {
      await recordBulkProgress({ bulkId, state: 'paused', counts: carry.counts, outcomes: carry.unrecorded.splice(0) });
      if (collecting) {
        // Renewals under way finish during a pause: keep collecting them until none is left.
        const released = () => !carry.paused || carry.cancelRequested;
        while (carry.inFlight.length > 0 && !released() && !workflowInfo().continueAsNewSuggested) {
          await collectOutcomes();
          if (carry.inFlight.length > 0) await awaitNextCollection(released);
          await flush(false);
        }
        if (carry.inFlight.length > 0 && !released()) break; // continue as new, still paused
      }
      await condition(() => !carry.paused || carry.cancelRequested);
      continue;
    }
    if (buffer.length === 0) {
      if (carry.exhausted) break;
      if (workflowInfo().continueAsNewSuggested) break;
      // carry.after is the last certificate handled, so a page starts right after it.
      buffer = await selectBulkPage({ selector, after: carry.after, limit: PAGE_SIZE });
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
      if (collecting) {
        // Collected outcomes free slots: send again at once (the send ends the workflow task).
        if ((await collectOutcomes()) > 0 && !rateLimited) continue;
        await awaitNextCollection(() => carry.paused || carry.cancelRequested, rateWaitMs);
      } else {
        const window = carry.inFlight.length;
        await condition(() => carry.inFlight.length < window || carry.paused || carry.cancelRequested, rateWaitMs);
      }
      await flush(false);
      continue;
    }
    const batch = buffer.splice(0, budget);
    const sentAt = new Date(Date.now()).toISOString();
    // Marked in flight before sending, so an outcome that arrives during the activity is not lost.
    for (const target of batch) carry.inFlight.push({ certificateId: target.certificateId, oldVersionId: target.oldVersionId, sentAt });
    const result = await sendBulkRenewals({ bulkId, reason: options.reason, targets: batch, collectsOutcomes: collecting });
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

  if (!carry.cancelRequested && !(carry.exhausted && buffer.length === 0)) {
    // The history grew long: continue with the same state; unsent certificates are selected again.
    await flush(true);
    await condition(allHandlersFinished);
    return continueAsNew<typeof bulkReissue>({ bulkId, selector, options, state: { ...carry, exhausted: carry.exhausted && buffer.length === 0 } });
  }

  // Nothing more to send: wait for the renewals under way, writing outcomes as they come.
  while (carry.inFlight.length > 0) {
    if (collecting) {
      await collectOutcomes();
      if (carry.inFlight.length > 0) await awaitNextCollection(() => carry.unrecorded.length >= FLUSH_BATCH);
    } else {
      const before = finishedCount(carry.counts);
      await condition(() => finishedCount(carry.counts) !== before || carry.unrecorded.length >= FLUSH_BATCH, FLUSH_INTERVAL_MS);
    }
    await flush(false);
    if (workflowInfo().continueAsNewSuggested && carry.inFlight.length > 0) {
      await flush(true);
      await condition(allHandlersFinished);
      return continueAsNew<typeof bulkReissue>({ bulkId, selector, options, state: { ...carry, exhausted: true } });
    }
  }
  await flush(true);
  const finalState: BulkState = carry.cancelRequested ? 'cancelled' : 'completed';
  ended = finalState;
  endedAt = Date.now();
  await recordBulkProgress({ bulkId, state: finalState, counts: carry.counts, outcomes: [], finished: true });
  await condition(allHandlersFinished);
  return { ...progressOf(bulkId, finalState, carry, Date.now()), state: finalState };
}

function assertSteerable(carry: BulkCarry, action: string): void {
  if (carry.cancelRequested) throw new Error(`the bulk operation is cancelled; it cannot ${action}`);
}

