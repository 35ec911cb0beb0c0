import type { Client } from '@temporalio/client';
import type { AuditCheckpoint } from '../db/audit-chain.js';
import type { Database } from '../db/database.js';
import type { IssuerStore } from './issuer-store.js';

/** What activities need from the outside world; the worker (cmd/worker.ts) builds it. */
export interface ActivityDeps {
  db: Database;
  kek: Buffer;
  issuers: IssuerStore;
  now: () => Date;
  /** `file` destinations are directories below this root on the worker's host. */
  fileDestinationRoot: string;
  /** For activities that signal other workflows in batches (bulk reissue). */
  temporal: Client;
  /** Keeps each audit checkpoint outside the database too (the worker appends it to a file and logs it). */
  auditCheckpointCopy?: (checkpoint: AuditCheckpoint) => Promise<void>;
}
