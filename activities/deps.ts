import type { Client } from '@temporalio/client';
import type { KeyEncryptionKeys } from '../ca/key-encryption.js';
import type { Pkcs11Token } from '../ca/pkcs11-token.js';
import type { AuditCheckpoint } from '../db/audit-chain.js';
import type { Database } from '../db/database.js';
import type { AcmeValidationConfig } from './acme-validation-config.js';
import type { DestinationGuard } from './destination-guard.js';
import type { IssuerStore } from './issuer-store.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import type { Mailer } from './mailer.js';
import type { DeliveryRetry } from '../core/notifications.js';

/** What activities need from the outside world; the worker (cmd/worker.ts) builds it. */
export interface ActivityDeps {
  db: Database;
  /** The KEK (or, while a rotation runs, the current and previous KEKs): seals with the current, opens with any. */
  kek: KeyEncryptionKeys;
  issuers: IssuerStore;
  /** CERTFLOW_SIGNER=pkcs11: the token new CA keys are created in. Absent: CA keys are software keys sealed under the KEK. */
  hsm?: Pkcs11Token;
  now: () => Date;
  /** `file` destinations are directories below this root on the worker's host. */
  fileDestinationRoot: string;
  /** Checks webhook and verify hosts on the addresses they resolve to, right before connecting (no SSRF). */
  destinationGuard: DestinationGuard;
  /** For activities that signal other workflows in batches (bulk reissue). */
  temporal: Client;
  /** Ports and resolver ACME challenge validation uses (CERTFLOW_ACME_*); absent: 80, 443 and the system resolver. */
  acmeValidation?: AcmeValidationConfig;
  /** Keeps each audit checkpoint outside the database too (the worker appends it to a file and logs it). */
  auditCheckpointCopy?: (checkpoint: AuditCheckpoint) => Promise<void>;
  /** The worker's Prometheus metrics (metrics/worker-metrics.ts); absent: nothing is recorded. */
  metrics?: WorkerMetrics;
  /** SMTP for email notifications (CERTFLOW_SMTP_URL); absent: email deliveries wait and retry until it is configured. */
  mailer?: Mailer;
  /** How failed notification deliveries are retried; absent: core/notifications.ts DEFAULT_DELIVERY_RETRY. */
  notificationRetry?: DeliveryRetry;
  /** The process's own secrets (cmd/observability.ts processSecrets): cut out of error groups and notifications too. */
  knownSecrets?: readonly string[];
}
