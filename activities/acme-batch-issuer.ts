/**
 * The worker's ACME batch issuer: signs new ACME certificates that need no approval without a
 * lifecycle workflow each (one workflow start and first task cost more machine time than the whole
 * rest of an ACME issuance). Finalize stores the certificate and queues it (db/acme-issuance-queue.ts);
 * this claims queued certificates in batches, woken by `NOTIFY` (and by a slow poll when the
 * announcement is lost), and runs each through the one issuance pipeline, `issueCertificate`
 * idempotent per (certificate, generation), so a batch claimed again after its worker died signs
 * nothing twice, and it announces each version to finalize. A revoked certificate gets nothing.
 *
 * What the pipeline refuses, and what keeps failing, is handed to the certificate's lifecycle
 * workflow, started like a certificate's eager one: it retries and reports like any other
 * (stuck listings, error groups, bulk outcomes). The lifecycle of a certificate issued here is
 * started lazily by whatever addresses it later (core/lazy-lifecycle.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import pg from 'pg';
import { lifecycleWorkflowId } from '../contracts/lifecycle-messages.js';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import type { LifecycleInput } from '../core/lifecycle.js';
import { SEARCH_ATTRIBUTE_KEYS } from '../core/search-attributes.js';
import { ACME_ISSUE_CHANNEL, claimAcmeIssuances, removeAcmeIssuance, retryAcmeIssuanceLater, type ClaimedIssuance } from '../db/acme-issuance-queue.js';
import { findCertificate } from '../db/certificates.js';
import { poolOf } from '../db/database.js';
import { findTeam } from '../db/teams.js';
import type { ActivityDeps } from './deps.js';
import type { IssueCertificateInput } from './issue-certificate.js';

/** Claims of a certificate that failed for infrastructure reasons before its lifecycle takes it over. */
const MAX_BATCH_ATTEMPTS = 3;
/** Looks at the queue this often when no announcement came (a lost LISTEN connection, a missed NOTIFY). */
const POLL_MS = 2_000;
const RECONNECT_MS = 1_000;

export interface AcmeBatchIssuerOptions {
  taskQueue: string;
  batchSize: number;
  leaseSeconds: number;
  log: (message: string) => void;
}

export class AcmeBatchIssuer {
  private stopped = false;
  private woken = false;
  private wake: (() => void) | null = null;
  private listener: pg.Client | null = null;
  private running: Promise<void> | null = null;

  /**
   * `issue` is the worker's `issueCertificate` activity function (activities/index.ts): the pipeline
   * with its metrics, OCSP presigning and error groups, exactly as a lifecycle run calls it.
   */
  constructor(
    private readonly deps: ActivityDeps,
    private readonly issue: (input: IssueCertificateInput) => Promise<unknown>,
    private readonly options: AcmeBatchIssuerOptions,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp();
    await this.running;
    await this.listener?.end().catch(() => undefined);
  }

  private wakeUp(): void {
    this.woken = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    void this.listen();
    while (!this.stopped) {
      this.woken = false;
      let claimed: ClaimedIssuance[] = [];
      try {
        claimed = await claimAcmeIssuances(this.deps.db, this.options.batchSize, this.options.leaseSeconds);
      } catch (error) {
        this.options.log(`ACME batch issuer: claiming failed (${(error as Error).message}); trying again`);
      }
      if (claimed.length > 0) {
        await Promise.all(claimed.map((issuance) => this.issueOne(issuance)));
        continue;
      }
      if (this.woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  private async issueOne(issuance: ClaimedIssuance): Promise<void> {
    const { db } = this.deps;
    const { certificateId, generation } = issuance;
    try {
      await this.issue({ certificateId, generation });
      await removeAcmeIssuance(db, certificateId, generation);
    } catch (error) {
      try {
        await this.afterFailure(issuance, error);
      } catch (handling) {
        // Left claimed: the row is claimed again once its lease has run out.
        this.options.log(`ACME batch issuer: ${certificateId} failed (${(error as Error).message}) and so did handling it (${(handling as Error).message})`);
      }
    }
  }

  private async afterFailure(issuance: ClaimedIssuance, error: unknown): Promise<void> {
    const { certificateId, generation, attempts } = issuance;
    const type = error instanceof ApplicationFailure ? error.type : null;
    if (type === BUSINESS_ERROR_TYPES.certificateRevoked || type === BUSINESS_ERROR_TYPES.certificateNotFound) {
      // A revocation won (its lifecycle run recorded it), or the certificate is gone: nothing to sign.
      return removeAcmeIssuance(this.deps.db, certificateId, generation);
    }
    const refused = error instanceof ApplicationFailure && error.nonRetryable;
    if (!refused && attempts < MAX_BATCH_ATTEMPTS) {
      return retryAcmeIssuanceLater(this.deps.db, certificateId, 2 ** attempts, (error as Error).message);
    }
    await this.handOver(certificateId, generation);
    await removeAcmeIssuance(this.deps.db, certificateId, generation);
    this.options.log(`ACME batch issuer: ${certificateId} handed to its lifecycle workflow after ${attempts} attempt(s): ${(error as Error).message}`);
  }

  /** Starts the certificate's lifecycle as finalize used to: it issues (or fails and reports) like any other. */
  private async handOver(certificateId: string, generation: number): Promise<void> {
    const certificate = await findCertificate(this.deps.db, certificateId);
    if (!certificate) return;
    const team = await findTeam(this.deps.db, certificate.teamId);
    const input: LifecycleInput = {
      certificateId,
      generation,
      destinations: [],
      keySource: certificate.keySource,
      approval: null,
      renewBeforeSeconds: certificate.renewBeforeSeconds,
    };
    try {
      await this.deps.temporal.workflow.start('certificateLifecycle', {
        workflowId: lifecycleWorkflowId(certificateId),
        taskQueue: this.options.taskQueue,
        args: [input],
        // Started meanwhile (a revocation, a renewal asked of Certflow): that run owns it.
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTE_KEYS.certificateId, value: certificateId },
          { key: SEARCH_ATTRIBUTE_KEYS.team, value: team?.name ?? certificate.teamId },
          { key: SEARCH_ATTRIBUTE_KEYS.commonName, value: certificate.commonName ?? '' },
          { key: SEARCH_ATTRIBUTE_KEYS.certState, value: 'issuing' },
          { key: SEARCH_ATTRIBUTE_KEYS.renewalAttempt, value: 0 },
        ],
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  /** One LISTEN connection outside the pool, reconnected when lost; the poll covers the gaps. */
  private async listen(): Promise<void> {
    while (!this.stopped) {
      const client = new pg.Client(poolOf(this.deps.db).options);
      const lost = new Promise<void>((resolve) => {
        client.on('error', () => resolve());
        client.on('end', () => resolve());
      });
      client.on('notification', (message) => {
        if (message.channel === ACME_ISSUE_CHANNEL) this.wakeUp();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${ACME_ISSUE_CHANNEL}`);
        this.listener = client;
        // Anything queued while not listening.
        this.wakeUp();
        await lost;
      } catch {
        // Postgres is away: the poll keeps trying, and so does this after a pause.
      }
      this.listener = null;
      await client.end().catch(() => undefined);
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
    }
  }
}
