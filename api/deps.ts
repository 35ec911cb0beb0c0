import type { Client } from '@temporalio/client';
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
  /** Checks that Postgres and Temporal answer; used by /readyz. */
  checkReadiness: () => Promise<{ postgres: boolean; temporal: boolean }>;
  /** The platform's floor on requested validity, in seconds (CERTFLOW_MIN_VALIDITY, 1 h unless configured); absent (tests): only the schema's minimum. */
  minValiditySeconds?: number;
}

export interface Principal {
  tokenId: string;
  /** Null for platform-wide admin tokens. */
  teamId: string | null;
  role: Role;
}

export type AppEnv = { Variables: { principal: Principal } };
