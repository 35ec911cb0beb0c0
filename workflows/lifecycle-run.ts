/**
 * The state one lifecycle run carries between its steps: the status the `status` query shows, the
 * inbox its messages fill (core/lifecycle-inbox.ts), the search attributes the Temporal UI filters
 * on, and `untilDone`, the retry loop every step runs in.
 */
import { condition, isCancellation, log, patched, upsertSearchAttributes } from '@temporalio/workflow';
import { emptyInbox, type Inbox } from '../core/lifecycle-inbox.js';
import { afterFailure, initialStatus, workingState } from '../core/lifecycle-steps.js';
import { reportsRenewalFailing } from '../core/renewal-failing.js';
import type { LifecycleInput, LifecycleStatus, LifecycleStep } from '../core/lifecycle.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import type { CertState } from '../core/types.js';
import { reportToBulk } from './lifecycle-bulk-report.js';
import { lifecycleActivities } from './lifecycle-activities.js';
import { describeStepFailure } from './until-done.js';

/** One typed search attribute update (@temporalio/common's SearchAttributeUpdatePair). */
type AttributeUpdate = Extract<Parameters<typeof upsertSearchAttributes>[0], unknown[]>[number];

export class LifecycleRun {
  readonly status: LifecycleStatus;
  inbox: Inbox;
  /** This run's version is issued: a renewNow from now on asks for the next generation. */
  issued = false;
  /** The state and attempt last upserted: CertState and RenewalAttempt are upserted only when they change. */
  private upserted: { state: CertState; attempt: number } | null = null;
  /** Attributes that ride along with the next upsert. */
  private pendingAttributes: AttributeUpdate[] = [];

  constructor(readonly input: LifecycleInput) {
    this.status = initialStatus(input, new Date(Date.now()));
    this.inbox = emptyInbox(input.bulkOperationIds ?? []);
    const bulkId = this.inbox.owed.at(-1);
    if (bulkId) this.pendingAttributes.push({ key: SEARCH_ATTRIBUTE_KEYS.bulkOperationId, value: bulkId });
    this.setState(this.status.state, this.status.pendingStep);
  }

  get certificateId(): string {
    return this.input.certificateId;
  }

  get workingState(): CertState {
    return workingState(this.input);
  }

  get failing(): boolean {
    return this.status.pendingStep === 'retry-backoff' || this.status.pendingStep === 'wait-for-operator';
  }

  setState(state: CertState, step: LifecycleStep): void {
    if (state !== this.status.state) this.status.stateSince = new Date(Date.now()).toISOString();
    this.status.state = state;
    this.status.pendingStep = step;
    if (this.upserted?.state === state && this.upserted.attempt === this.status.attempt) return;
    this.upserted = { state, attempt: this.status.attempt };
    upsertSearchAttributes([
      { key: SEARCH_ATTRIBUTE_KEYS.certState, value: state },
      { key: SEARCH_ATTRIBUTE_KEYS.renewalAttempt, value: this.status.attempt },
      { key: SEARCH_ATTRIBUTE_KEYS.certStateSince, value: new Date(this.status.stateSince!) },
      ...this.pendingAttributes.splice(0),
    ]);
  }

  /** Attributes upserted with the next change of state (every way on from an issuance changes it). */
  upsertLater(...updates: AttributeUpdate[]): void {
    this.pendingAttributes.push(...updates);
  }

  /**
   * Runs a step until it succeeds: an infrastructure failure backs off and retries (a renewNow
   * retries at once), a business failure is reported to waiting bulk operations and waits for an
   * operator's renewNow. Errors of a type in
   * `passThrough` are the caller's; a revocation cancels the wait like any other.
   */
  async untilDone<T>(step: LifecycleStep, run: () => Promise<T>, options: { passThrough?: readonly string[]; backoffCapMs?: number } = {}): Promise<T> {
    for (;;) {
      this.status.pendingStep = step;
      try {
        const result = await run();
        this.status.attempt = 0;
        this.status.nextRetryAt = null;
        return result;
      } catch (error) {
        if (isCancellation(error)) throw error;
        const { step: _step, ...failure } = describeStepFailure(step, error, this.status.attempt + 1);
        if (options.passThrough?.includes(failure.type)) throw error;
        this.status.attempt = failure.attempt;
        this.status.lastError = failure;
        log.warn('lifecycle step failed', { step, certificateId: this.certificateId, error: failure });
        const decision = afterFailure(failure.type, failure.attempt, options.backoffCapMs);
        await this.reportFailingRenewal(step, failure, decision.kind === 'wait-for-operator');
        const retryNow = () => this.inbox.retryNow;
        if (decision.kind === 'wait-for-operator') {
          this.setState('failed', 'wait-for-operator');
          // After this run's issuance, bulk operations waiting for the next generation hear it too: it may never come.
          await reportToBulk(this, 'failed', `${failure.type}: ${failure.message}`, this.issued);
          await condition(retryNow);
        } else {
          this.status.nextRetryAt = new Date(Date.now() + decision.ms).toISOString();
          this.setState(this.status.state, 'retry-backoff');
          await condition(retryNow, decision.ms);
        }
        this.inbox = { ...this.inbox, retryNow: false };
        this.status.nextRetryAt = null;
        this.setState(this.status.state === 'failed' ? this.workingState : this.status.state, step);
      }
    }
  }

  /**
   * Tells the team once per generation that its renewal is failing (core/renewal-failing.ts). Runs
   * recorded before this existed replay without it (the patch). A failure to report is logged, not
   * the step's: the renewal goes on either way.
   */
  private async reportFailingRenewal(step: LifecycleStep, failure: { type: string; message: string; attempt: number }, waitsForOperator: boolean): Promise<void> {
    if (!reportsRenewalFailing({ generation: this.input.generation, step, attempt: failure.attempt, waitsForOperator })) return;
    if (!patched(RENEWAL_FAILING_PATCH)) return;
    try {
      await lifecycleActivities.reportRenewalFailing({
        certificateId: this.certificateId,
        generation: this.input.generation,
        step,
        error: { type: failure.type, message: failure.message, attempt: failure.attempt },
        waitsForOperator,
      });
    } catch (error) {
      if (isCancellation(error)) throw error;
      log.warn('could not report a failing renewal', { certificateId: this.certificateId, error: String(error) });
    }
  }
}

/** The patch id that adds the failing-renewal report to runs (workflow versioning). */
export const RENEWAL_FAILING_PATCH = 'notify-renewal-failing';
