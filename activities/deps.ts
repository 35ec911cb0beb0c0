import type { Client } from '@temporalio/client';
import type { Database } from '../db/database.js';
import type { DestinationGuard } from './destination-guard.js';
import type { IssuerStore } from './issuer-store.js';

/** What activities need from the outside world; the worker (cmd/worker.ts) builds it. */
export interface ActivityDeps {
  db: Database;
  kek: Buffer;
  issuers: IssuerStore;
  now: () => Date;
  /** `file` destinations are directories below this root on the worker's host. */
  fileDestinationRoot: string;
  /** Checks webhook and verify hosts on the addresses they resolve to, right before connecting (no SSRF). */
  destinationGuard: DestinationGuard;
  /** For activities that signal other workflows in batches (bulk reissue). */
  temporal: Client;
}
