/**
 * Configuration from the environment (DESIGN.md §6), validated once at start-up. A bad value stops
 * the process with a message that names the variable.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseDurationSeconds } from '../core/duration.js';
import { uriConstraintBase } from '../ca/authority.js';
import { parseCidr } from '../core/ip.js';
import { DEFAULT_PLATFORM_MIN_VALIDITY_SECONDS } from '../core/fair-use.js';
import { parseRangeList } from '../core/destination-hosts.js';
import type { AcmeValidationConfig } from '../activities/acme-validation-config.js';
import { loadAcmeValidationConfig } from './acme-validation-env.js';
import { isCountryCode } from '../core/country-codes.js';
import type { CaNames } from '../activities/ca-bootstrap.js';
import { loadNotificationSettings, type NotificationSettings } from './notification-env.js';

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

/** A DN attribute of the CA (RFC 5280 upper bounds: 64 characters for O and CN); printable text, no control characters. */
const caNameAttribute = optionalString.pipe(
  z
    .string()
    .max(64, 'must be at most 64 characters (RFC 5280 ub-organization-name / ub-common-name)')
    .refine((value) => !/[\u0000-\u001f\u007f-\u009f]/.test(value), 'must not contain control characters')
    .optional(),
);

/** Asymmetric JWS algorithms only: never `none` or HMAC (a shared secret is not a public key). */
const OIDC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'] as const;
/** `loopback` and CIDR ranges, comma-separated (core/destination-hosts.ts parseRangeList). */
function destinationRanges(variable: string) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return undefined;
      try {
        return parseRangeList(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `${variable}: ${(error as Error).message} (write "loopback" or CIDR ranges, comma-separated)` });
        return z.NEVER;
      }
    });
}

const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  CERTFLOW_HOST: z.string().default('127.0.0.1'),
  CERTFLOW_DATA_DIR: z.string().default('.data'),
  CERTFLOW_PUBLIC_URL: optionalString.pipe(z.url().optional()),
  DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_CLI_PATH: optionalString,
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  TEMPORAL_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
  CERTFLOW_KEK: optionalString,
  CERTFLOW_KEK_PREVIOUS: optionalString,
  CERTFLOW_SEALING_PUBLIC_KEY: optionalString,
  CERTFLOW_AUDIT_KEY: optionalString,
  CERTFLOW_AUDIT_CHECKPOINT_FILE: optionalString,
  CERTFLOW_DB_APP_ROLE: optionalString,
  CERTFLOW_BOOTSTRAP_TOKEN: optionalString.pipe(z.string().min(20, 'must be at least 20 characters').optional()),
  CERTFLOW_FILE_DESTINATION_ROOT: optionalString,
  CERTFLOW_TASK_QUEUE: z.string().min(1).default('certflow-lifecycle'),
  CERTFLOW_ACME_PORT: z.coerce.number().int().min(0).max(65535).default(8443),
  CERTFLOW_ACME_HOSTNAMES: z
    .string()
    .default('localhost,127.0.0.1')
    .transform((value) => value.split(',').map((name) => name.trim()).filter(Boolean))
    .refine((names) => names.length > 0 && names.every((name) => /^[A-Za-z0-9.:-]{1,253}$/.test(name)), 'a comma-separated list of host names and IP addresses'),
  CERTFLOW_ACME_ALLOW_UNBOUND_ACCOUNTS: z.enum(['true', 'false']).default('false'),
  CERTFLOW_ACME_VALIDITY: z
    .string()
    .default('P90D')
    .transform((value, ctx) => {
      try {
        return parseDurationSeconds(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  CERTFLOW_ACME_EAB_SECRET: optionalString,
  CERTFLOW_CA_ORGANIZATION: caNameAttribute,
  CERTFLOW_CA_COUNTRY: optionalString.pipe(
    z
      .string()
      .refine(isCountryCode, 'must be an ISO 3166-1 alpha-2 country code in upper case, such as "DE" or "US" ("XX": none given)')
      .optional(),
  ),
  CERTFLOW_CA_ROOT_CN: caNameAttribute,
  CERTFLOW_CA_INTERMEDIATE_CN: caNameAttribute,
  CERTFLOW_PERMITTED_DNS_ZONES: optionalString,
  CERTFLOW_PERMITTED_URI_DOMAINS: optionalString.refine(
    // The check the CA applies when it writes the constraint (ca/authority.ts), so a value refused there is refused here.
    (value) =>
      (value ?? '').split(',').every((domain) => {
        if (domain.trim() === '') return true;
        try {
          uriConstraintBase(domain.trim());
          return true;
        } catch {
          return false;
        }
      }),
    'must be comma-separated hosts ("prod", "payments.example.com") or domains with a leading dot (".example.com")',
  ),
  CERTFLOW_PERMITTED_IP_RANGES: optionalString.refine(
    (value) =>
      (value ?? '').split(',').every((range) => {
        if (range.trim() === '') return true;
        try {
          parseCidr(range.trim());
          return true;
        } catch {
          return false;
        }
      }),
    'must be comma-separated CIDRs such as "10.0.0.0/8,2001:db8::/32" (no host bits set)',
  ),
  CERTFLOW_MIN_VALIDITY: optionalString.pipe(
    z
      .string()
      .optional()
      .refine((value) => {
        if (value === undefined) return true;
        try {
          return parseDurationSeconds(value) >= 15;
        } catch {
          return false;
        }
      }, 'must be an ISO-8601 duration or seconds, at least 15 s (e.g. PT1H)'),
  ),
  CERTFLOW_TEMPORAL_UI_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  CERTFLOW_WORKER_MAX_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).default(500),
  CERTFLOW_WORKER_MAX_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(1_000).default(100),
  CERTFLOW_WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(1_000_000).optional(),
  CERTFLOW_WORKER_MAX_LOCAL_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).optional(),
  CERTFLOW_WORKER_MAX_ACTIVITIES_PER_SECOND: z.coerce.number().positive().max(1_000_000).optional(),
  CERTFLOW_TASK_QUEUE_MAX_ACTIVITIES_PER_SECOND: z.coerce.number().positive().max(1_000_000).optional(),
  CERTFLOW_SIGNER_MAX_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(200),
  CERTFLOW_WORKER_MAX_SIGNINGS: z.coerce.number().int().min(1).max(10_000).default(20),
  CERTFLOW_RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(50),
  CERTFLOW_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(500),
  CERTFLOW_OIDC_ISSUER: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  CERTFLOW_OIDC_AUDIENCE: optionalString,
  CERTFLOW_OIDC_TEAM_CLAIM: z.string().min(1).default('certflow_team'),
  CERTFLOW_OIDC_ROLE_CLAIM: z.string().min(1).default('certflow_role'),
  CERTFLOW_OIDC_ALGORITHMS: z
    .string()
    .default('RS256,ES256')
    .transform((value) => value.split(',').map((alg) => alg.trim()).filter(Boolean))
    .pipe(z.array(z.enum(OIDC_ALGORITHMS)).min(1)),
  CERTFLOW_OIDC_CLOCK_TOLERANCE: z.coerce.number().int().min(0).max(300).default(30),
  /** The IdP's public client (no secret) that `certflow login --oidc` runs the device flow with; published at GET /v1/auth/oidc. */
  CERTFLOW_OIDC_CLI_CLIENT_ID: optionalString.pipe(z.string().regex(/^[\x21-\x7e]{1,200}$/, 'printable ASCII without spaces').optional()),
  CERTFLOW_ALLOW_PRIVATE_DESTINATIONS: optionalString.pipe(destinationRanges('CERTFLOW_ALLOW_PRIVATE_DESTINATIONS')),
  CERTFLOW_DENIED_DESTINATIONS: optionalString.pipe(destinationRanges('CERTFLOW_DENIED_DESTINATIONS')),
  NODE_ENV: z.string().optional(),
  CERTFLOW_METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  CERTFLOW_METRICS_MAX_TEAMS: z.coerce.number().int().min(0).max(10_000).default(100),
  CERTFLOW_METRICS_CACHE_SECONDS: z.coerce.number().min(0).max(3_600).default(15),
  CERTFLOW_WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  CERTFLOW_WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  CERTFLOW_TEMPORAL_METRICS_ADDRESS: optionalString.pipe(
    z
      .string()
      .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9465')
      .optional(),
  ),
  // Read here only to keep the collector out of team webhooks' reach (cmd/tracing.ts configures the exporter).
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.pipe(z.string().optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalString.pipe(z.string().optional()),
  OTEL_TRACES_EXPORTER: optionalString,
  CERTFLOW_SIGNER: optionalString.pipe(z.enum(['software', 'pkcs11']).default('software')),
  CERTFLOW_PKCS11_MODULE: optionalString,
  CERTFLOW_PKCS11_TOKEN_LABEL: optionalString,
  CERTFLOW_PKCS11_SLOT: optionalString.pipe(z.string().regex(/^\d+$/, 'must be a slot id (a number)').transform(Number).optional()),
  CERTFLOW_PKCS11_PIN_FILE: optionalString,
  CERTFLOW_PKCS11_SESSIONS: z.coerce.number().int().min(1).max(64).default(4),
  /** Refused: the PIN comes from CERTFLOW_PKCS11_PIN_FILE only (an environment leaks into /proc, crash dumps, child processes). */
  CERTFLOW_PKCS11_PIN: z.undefined({ error: 'the PIN is never read from the environment: put it in a file readable only by the worker and set CERTFLOW_PKCS11_PIN_FILE' }).optional(),
});

/** Where CA keys are created and kept (CERTFLOW_SIGNER); see docs/security.md "CA keys in an HSM (PKCS#11)". */
export type SignerConfig =
  | { backend: 'software' }
  | {
      backend: 'pkcs11';
      /** Path of the PKCS#11 module (.so). */
      modulePath: string;
      /** Exactly one of tokenLabel and slot. */
      tokenLabel: string | undefined;
      slot: number | undefined;
      /** File holding the user PIN (read by the worker at start-up; never from env, argv or logs). */
      pinFile: string;
      /** Sessions the worker keeps open on the token (signs run in parallel up to this many). */
      sessions: number;
    };

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  publicUrl: string;
  databaseUrl: string | undefined;
  temporalAddress: string | undefined;
  temporalNamespace: string;
  temporalCliPath: string | undefined;
  temporalPort: number;
  temporalUiPort: number;
  kek: string | undefined;
  /** KEKs still accepted for opening while `certflow kek rotate` runs (comma-separated in the env); worker and CLI only. */
  kekPrevious: string[];
  /** `x25519:<base64url>`: the worker's sealing public key, the only key material the API gets. */
  sealingPublicKey: string | undefined;
  /** Seals audit rows and checkpoints (cmd/audit-key.ts); given to the API and the worker, never stored in Postgres. */
  auditKey: string | undefined;
  /** Where the worker appends a copy of each audit checkpoint (JSON lines), outside the database. */
  auditCheckpointFile: string;
  /** The role the processes connect as, when migrations run as the tables' owner: it loses UPDATE/DELETE/TRUNCATE on the audit tables. */
  dbAppRole: string | undefined;
  bootstrapToken: string | undefined;
  fileDestinationRoot: string;
  taskQueue: string;
  /**
   * The CA's distinguished names as configured (CERTFLOW_CA_*; only what is set): they name the root
   * and the intermediate when the hierarchy is created; afterwards a difference is logged, not applied.
   */
  caNames: CaNames;
  /** Zones the issuing intermediate is constrained to when it is created (comma-separated in the env). */
  permittedDnsZones: string[];
  /** URI host subtrees (".example.com" for subdomains, "prod" for a SPIFFE trust domain) the issuing intermediate is constrained to when created. */
  permittedUriDomains: string[];
  /** IP ranges (CIDRs) the issuing intermediate is constrained to when created. */
  permittedIpRanges: string[];
  /** The platform's floor on requested validity, in seconds (default 1 h). */
  minValiditySeconds: number;
  /** Base URL of the Temporal UI for deep links (default: the local dev server's UI). */
  temporalUiUrl: string;
  /**
   * Activities one worker runs at once. Most of a rollout's activities wait (for an agent's report,
   * for endpoints to serve the new version) rather than compute, so this is well above the core count.
   */
  workerMaxActivities: number;
  workerMaxWorkflowTasks: number;
  /** Workflow runs kept in the worker's sticky cache; unset: the SDK's default (from the heap size). */
  workerMaxCachedWorkflows: number | undefined;
  /** Local activities (the short renewal steps) one worker runs at once; unset: as many as workerMaxActivities. */
  workerMaxLocalActivities: number | undefined;
  /** Activities (not local ones) one worker starts per second; unset: no limit. */
  workerMaxActivitiesPerSecond: number | undefined;
  /** Activities the whole lifecycle task queue dispatches per second, over every worker (the server enforces it); unset: no limit. */
  taskQueueMaxActivitiesPerSecond: number | undefined;
  /**
   * The signer's protection (workflows/signing.ts): signings the signing task queue dispatches per
   * second over every worker (the server enforces it; 0 = no limit), and how many one worker runs at once.
   */
  signing: { maxPerSecond: number | null; maxConcurrent: number };
  /**
   * Per-API-token request limit (token bucket, in each API process): `perSecond` refill, `burst`
   * at once. `CERTFLOW_RATE_LIMIT_PER_SECOND=0` turns it off. Null when off.
   */
  rateLimit: { perSecond: number; burst: number } | null;
  /** OpenID Connect bearer JWTs of one issuer (api/oidc.ts); null: API tokens only. */
  oidc: { issuer: string; audience: string; teamClaim: string; roleClaim: string; algorithms: string[]; clockToleranceSeconds: number; cliClientId: string | null } | null;
  /**
   * Exceptions to the destination deny list (development and tests only, e.g. `loopback`); unset:
   * none (dev mode then allows loopback). The platform's own service ports stay denied regardless.
   */
  allowPrivateDestinations: string[] | undefined;
  /** Extra ranges no webhook or verify endpoint may reach (e.g. a cluster's API server). */
  deniedDestinations: string[];
  production: boolean;
  signer: SignerConfig;
  /** ACME over HTTPS (api/acme/); null when CERTFLOW_ACME_PORT is 0. */
  acme: AcmeSettings | null;
  /** Prometheus metrics (metrics/): the API's GET /metrics, the worker's listener, the Temporal SDK's exporter. */
  metrics: MetricsSettings;
  /** Where the worker's ACME challenge validation connects and asks (CERTFLOW_ACME_HTTP01_PORT, _TLSALPN01_PORT, _DNS_RESOLVER). */
  acmeValidation: AcmeValidationConfig;
  /** SMTP and the delivery and sweep schedules (cmd/notification-env.ts); worker only. */
  notifications: NotificationSettings;
  /** Where OTLP traces go (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, _ENDPOINT, or the exporter's default); null: no OTLP export. */
  otlpEndpoint: string | null;
}

export interface MetricsSettings {
  /** Bearer token scrapes must send (both processes); null: /metrics is open (the API's refuses in production). */
  token: string | null;
  /** Teams beyond this many (by name) share the team label `_other`. */
  maxTeams: number;
  /** How long the inventory gauges' figures are reused between scrapes. */
  cacheSeconds: number;
  /** The worker's metrics listener; port 0: none. */
  workerHost: string;
  workerPort: number;
  /** Where the Temporal SDK (Rust core) serves its own worker metrics; null: not exported. */
  temporalSdkAddress: string | null;
}

export interface AcmeSettings {
  port: number;
  /** Names the listener's certificate is issued for (and clients connect to). */
  hostnames: string[];
  allowUnboundAccounts: boolean;
  validitySeconds: number;
  /** Derives the EAB MAC keys (32+ bytes, hex or base64); dev mode generates one under the data dir. */
  eabSecret: string | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = result.data;
  if (e.CERTFLOW_OIDC_ISSUER && !e.CERTFLOW_OIDC_AUDIENCE) throw new ConfigError('invalid configuration:\n  CERTFLOW_OIDC_AUDIENCE: required with CERTFLOW_OIDC_ISSUER (the audience Certflow tokens are issued for)');
  if (e.CERTFLOW_OIDC_CLI_CLIENT_ID && !e.CERTFLOW_OIDC_ISSUER) throw new ConfigError('invalid configuration:\n  CERTFLOW_OIDC_CLI_CLIENT_ID: needs CERTFLOW_OIDC_ISSUER and CERTFLOW_OIDC_AUDIENCE (the issuer the CLI logs in at)');
  if (e.CERTFLOW_OIDC_ISSUER?.startsWith('http:') && e.NODE_ENV === 'production') throw new ConfigError('invalid configuration:\n  CERTFLOW_OIDC_ISSUER: must be https in production');
  const signer = signerConfig(e);
  const dataDir = resolve(e.CERTFLOW_DATA_DIR);
  return {
    port: e.PORT,
    host: e.CERTFLOW_HOST,
    dataDir,
    publicUrl: e.CERTFLOW_PUBLIC_URL ?? `http://127.0.0.1:${e.PORT}`,
    databaseUrl: e.DATABASE_URL,
    temporalAddress: e.TEMPORAL_ADDRESS,
    temporalNamespace: e.TEMPORAL_NAMESPACE,
    temporalCliPath: e.TEMPORAL_CLI_PATH,
    temporalPort: e.TEMPORAL_PORT,
    temporalUiPort: e.TEMPORAL_UI_PORT,
    kek: e.CERTFLOW_KEK,
    kekPrevious: (e.CERTFLOW_KEK_PREVIOUS ?? '').split(',').map((value) => value.trim()).filter(Boolean),
    sealingPublicKey: e.CERTFLOW_SEALING_PUBLIC_KEY,
    auditKey: e.CERTFLOW_AUDIT_KEY,
    auditCheckpointFile: resolve(e.CERTFLOW_AUDIT_CHECKPOINT_FILE ?? resolve(dataDir, 'audit-checkpoints.jsonl')),
    dbAppRole: e.CERTFLOW_DB_APP_ROLE,
    bootstrapToken: e.CERTFLOW_BOOTSTRAP_TOKEN,
    fileDestinationRoot: resolve(e.CERTFLOW_FILE_DESTINATION_ROOT ?? resolve(dataDir, 'deliveries')),
    taskQueue: e.CERTFLOW_TASK_QUEUE,
    caNames: {
      ...(e.CERTFLOW_CA_ORGANIZATION !== undefined ? { organization: e.CERTFLOW_CA_ORGANIZATION } : {}),
      ...(e.CERTFLOW_CA_COUNTRY !== undefined ? { country: e.CERTFLOW_CA_COUNTRY } : {}),
      ...(e.CERTFLOW_CA_ROOT_CN !== undefined ? { rootCommonName: e.CERTFLOW_CA_ROOT_CN } : {}),
      ...(e.CERTFLOW_CA_INTERMEDIATE_CN !== undefined ? { intermediateCommonName: e.CERTFLOW_CA_INTERMEDIATE_CN } : {}),
    },
    permittedDnsZones: (e.CERTFLOW_PERMITTED_DNS_ZONES ?? '').split(',').map((zone) => zone.trim()).filter(Boolean),
    permittedUriDomains: (e.CERTFLOW_PERMITTED_URI_DOMAINS ?? '').split(',').map((domain) => domain.trim()).filter(Boolean),
    permittedIpRanges: (e.CERTFLOW_PERMITTED_IP_RANGES ?? '').split(',').map((range) => range.trim()).filter(Boolean),
    minValiditySeconds: e.CERTFLOW_MIN_VALIDITY === undefined ? DEFAULT_PLATFORM_MIN_VALIDITY_SECONDS : parseDurationSeconds(e.CERTFLOW_MIN_VALIDITY),
    workerMaxActivities: e.CERTFLOW_WORKER_MAX_ACTIVITIES,
    workerMaxWorkflowTasks: e.CERTFLOW_WORKER_MAX_WORKFLOW_TASKS,
    workerMaxCachedWorkflows: e.CERTFLOW_WORKER_MAX_CACHED_WORKFLOWS,
    workerMaxLocalActivities: e.CERTFLOW_WORKER_MAX_LOCAL_ACTIVITIES,
    workerMaxActivitiesPerSecond: e.CERTFLOW_WORKER_MAX_ACTIVITIES_PER_SECOND,
    taskQueueMaxActivitiesPerSecond: e.CERTFLOW_TASK_QUEUE_MAX_ACTIVITIES_PER_SECOND,
    signing: { maxPerSecond: e.CERTFLOW_SIGNER_MAX_PER_SECOND > 0 ? e.CERTFLOW_SIGNER_MAX_PER_SECOND : null, maxConcurrent: e.CERTFLOW_WORKER_MAX_SIGNINGS },
    temporalUiUrl: (e.CERTFLOW_TEMPORAL_UI_URL ?? `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`).replace(/\/+$/, ''),
    rateLimit: e.CERTFLOW_RATE_LIMIT_PER_SECOND > 0 ? { perSecond: e.CERTFLOW_RATE_LIMIT_PER_SECOND, burst: e.CERTFLOW_RATE_LIMIT_BURST } : null,
    oidc: e.CERTFLOW_OIDC_ISSUER
      ? {
          issuer: e.CERTFLOW_OIDC_ISSUER,
          audience: e.CERTFLOW_OIDC_AUDIENCE!,
          teamClaim: e.CERTFLOW_OIDC_TEAM_CLAIM,
          roleClaim: e.CERTFLOW_OIDC_ROLE_CLAIM,
          algorithms: e.CERTFLOW_OIDC_ALGORITHMS,
          clockToleranceSeconds: e.CERTFLOW_OIDC_CLOCK_TOLERANCE,
          cliClientId: e.CERTFLOW_OIDC_CLI_CLIENT_ID ?? null,
        }
      : null,
    allowPrivateDestinations: e.CERTFLOW_ALLOW_PRIVATE_DESTINATIONS,
    deniedDestinations: e.CERTFLOW_DENIED_DESTINATIONS ?? [],
    production: e.NODE_ENV === 'production',
    signer,
    acmeValidation: loadAcmeValidationConfig(env),
    metrics: {
      token: e.CERTFLOW_METRICS_TOKEN ?? null,
      maxTeams: e.CERTFLOW_METRICS_MAX_TEAMS,
      cacheSeconds: e.CERTFLOW_METRICS_CACHE_SECONDS,
      workerHost: e.CERTFLOW_WORKER_METRICS_HOST,
      workerPort: e.CERTFLOW_WORKER_METRICS_PORT,
      temporalSdkAddress: e.CERTFLOW_TEMPORAL_METRICS_ADDRESS ?? null,
    },
    notifications: loadNotificationSettings(env),
    otlpEndpoint: e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_ENDPOINT ?? (e.OTEL_TRACES_EXPORTER === 'otlp' ? 'http://localhost:4318' : null),
    acme:
      e.CERTFLOW_ACME_PORT === 0
        ? null
        : {
            port: e.CERTFLOW_ACME_PORT,
            hostnames: e.CERTFLOW_ACME_HOSTNAMES,
            allowUnboundAccounts: e.CERTFLOW_ACME_ALLOW_UNBOUND_ACCOUNTS === 'true',
            validitySeconds: e.CERTFLOW_ACME_VALIDITY,
            eabSecret: e.CERTFLOW_ACME_EAB_SECRET,
          },
  };
}

function signerConfig(e: z.infer<typeof configSchema>): SignerConfig {
  if (e.CERTFLOW_SIGNER === 'software') return { backend: 'software' };
  const problems: string[] = [];
  if (!e.CERTFLOW_PKCS11_MODULE) problems.push('CERTFLOW_PKCS11_MODULE: required with CERTFLOW_SIGNER=pkcs11 (path of the PKCS#11 module)');
  if (!e.CERTFLOW_PKCS11_PIN_FILE) problems.push('CERTFLOW_PKCS11_PIN_FILE: required with CERTFLOW_SIGNER=pkcs11 (file holding the user PIN)');
  if ((e.CERTFLOW_PKCS11_TOKEN_LABEL === undefined) === (e.CERTFLOW_PKCS11_SLOT === undefined)) {
    problems.push('CERTFLOW_PKCS11_TOKEN_LABEL: give exactly one of CERTFLOW_PKCS11_TOKEN_LABEL and CERTFLOW_PKCS11_SLOT with CERTFLOW_SIGNER=pkcs11');
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.map((line) => `  ${line}`).join('\n')}`);
  return {
    backend: 'pkcs11',
    modulePath: resolve(e.CERTFLOW_PKCS11_MODULE!),
    tokenLabel: e.CERTFLOW_PKCS11_TOKEN_LABEL,
    slot: e.CERTFLOW_PKCS11_SLOT,
    pinFile: resolve(e.CERTFLOW_PKCS11_PIN_FILE!),
    sessions: e.CERTFLOW_PKCS11_SESSIONS,
  };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}
