import type { Tracer } from '@opentelemetry/api';
import type { Client } from '@temporalio/client';
import type { SealingPublicKey } from '../ca/sealed-box.js';
import type { PlatformDestinationRules } from '../core/destination-hosts.js';
import type { Role } from '../core/types.js';
import type { Database } from '../db/database.js';
import type { AcmeConfig } from './acme/context.js';
import type { OidcVerifier } from './oidc.js';
import type { Registry } from 'prom-client';
import type { ApiMetrics } from '../metrics/api-metrics.js';
import type { MetricsAccess } from '../metrics/http.js';

/** Everything the HTTP API needs; cmd/ builds it, tests build it against real services. */
export interface ApiDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
  now: () => Date;
  /**
   * The worker's sealing public key (ca/destination-secrets.ts): the API seals webhook secrets to it
   * and cannot open them. The API holds no KEK and nothing derived from one. Null: webhook
   * destinations are refused with 503 (CERTFLOW_SEALING_PUBLIC_KEY not configured).
   */
  sealingPublicKey: SealingPublicKey | null;
  /** Base URL of the Temporal UI, for deep links to a certificate's workflow (e.g. http://127.0.0.1:8233). */
  temporalUiUrl: string;
  /** The worker's root of `file` destinations: their directories are claimed as absolute paths below it. */
  fileDestinationRoot: string;
  /** The platform's deny list and its exceptions for webhook and verify hosts (core/destination-hosts.ts). */
  destinationRules: PlatformDestinationRules;
  /** Checks that Postgres and Temporal answer; used by /readyz. */
  checkReadiness: () => Promise<{ postgres: boolean; temporal: boolean }>;
  /** Per-token request rate limit (api/rate-limit.ts); absent: no limit (tests, benchmarks). */
  rateLimit?: RateLimitConfig;
  /** Accepts OpenID Connect bearer JWTs of one issuer (api/oidc.ts); absent: API tokens only. */
  oidc?: OidcVerifier;
  /** What `GET /v1/auth/oidc` publishes for the CLI's device flow login; absent: no OIDC login offered (404). */
  oidcLogin?: { issuer: string; audience: string; cliClientId: string };
  /** Names only the platform's own team may have certificates for (the ACME listener's; api/reserved-names.ts). */
  reservedNames?: string[];
  /** ACME (api/acme/): present when the platform serves it; EAB keys can be made only then. */
  acme?: AcmeConfig;
  /** The platform's floor on requested validity, in seconds (CERTFLOW_MIN_VALIDITY, 1 h unless configured); absent (tests): only the schema's minimum. */
  minValiditySeconds?: number;
  /** Prometheus metrics: GET /metrics serves `registry`; routes record into `api`. Absent: no /metrics, nothing recorded. */
  metrics?: { registry: Registry; api: ApiMetrics; access: MetricsAccess };
  /** Present when tracing is on (cmd/tracing.ts): every request is a SERVER span (api/request-tracing.ts). */
  tracer?: Tracer;
}

/** A token bucket per API token: `burst` requests at once, refilled at `perSecond`. In-process: per API replica. */
export interface RateLimitConfig {
  perSecond: number;
  burst: number;
}

/** The request's authenticated identity: the token used, and the principal (person or service) it acts for. */
export interface Principal {
  tokenId: string;
  /** `prn_…`: who acts; audit actors are by principal. */
  principalId: string;
  /** The principal answerable for `principalId` (itself unless a team admin created it): separation of duties compares these. */
  accountableId: string;
  /** Null for platform-wide admin tokens. */
  teamId: string | null;
  role: Role;
}

export type AppEnv = { Variables: { principal: Principal } };
