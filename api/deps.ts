import type { Client } from '@temporalio/client';
import type { PlatformDestinationRules } from '../core/destination-hosts.js';
import type { Role } from '../core/types.js';
import type { Database } from '../db/database.js';

/** Everything the HTTP API needs; cmd/ builds it, tests build it against real services. */
export interface ApiDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
  now: () => Date;
  /** Seals destination secrets (ca/key-encryption.ts deriveSecretsKey); the API never holds the KEK itself. */
  secretsKey: Buffer;
  /** Base URL of the Temporal UI, for deep links to a certificate's workflow (e.g. http://127.0.0.1:8233). */
  temporalUiUrl: string;
  /** The worker's root of `file` destinations: their directories are claimed as absolute paths below it. */
  fileDestinationRoot: string;
  /** The platform's deny list and its exceptions for webhook and verify hosts (core/destination-hosts.ts). */
  destinationRules: PlatformDestinationRules;
  /** Checks that Postgres and Temporal answer; used by /readyz. */
  checkReadiness: () => Promise<{ postgres: boolean; temporal: boolean }>;
}

export interface Principal {
  tokenId: string;
  /** Null for platform-wide admin tokens. */
  teamId: string | null;
  role: Role;
}

export type AppEnv = { Variables: { principal: Principal } };
