/**
 * The Postgres schema (DESIGN.md §3). Migrations in db/migrations are generated from this file by
 * `npm run db:generate` and committed.
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, check, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uniqueIndex } from 'drizzle-orm/pg-core';
import type { ApprovalReason } from '../core/approval.js';
import type { BulkCounts, BulkOptions, BulkOutcome, BulkSelector, BulkState } from '../core/bulk.js';
import type { LifecycleInput } from '../core/lifecycle.js';
import type { TeamPolicy } from '../core/policy.js';
import type { AccountStatus, AcmeIdentifier, AuthorizationStatus, ChallengeStatus, ChallengeType, OrderStatus } from '../core/acme-order.js';
import type { ApprovalState, CertificateSource, CertState, Destination, KeyAlgorithm, KeySource, KubernetesRef, PrincipalKind, Profile, RevocationReason, Role, RolloutState, VersionStatus } from '../core/types.js';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

/** Binary DER (CRLs, OCSP responses): node-postgres reads bytea as a Buffer and writes Buffers as bytea. */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

export const teams = pgTable('teams', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  policy: jsonb('policy').$type<TeamPolicy>().notNull(),
  createdAt: createdAt(),
});

/**
 * Who acts: a person or a service. Every API token belongs to one; separation of duties (approver
 * ≠ requester) and the audit log's actor are by principal, not by token. `team_id` null: platform-wide.
 * An OpenID Connect subject is a `person` principal keyed by (oidc_issuer, oidc_subject).
 */
export const principals = pgTable(
  'principals',
  {
    id: text('id').primaryKey(),
    kind: text('kind').$type<PrincipalKind>().notNull(),
    name: text('name').notNull(),
    email: text('email'),
    teamId: text('team_id').references(() => teams.id),
    oidcIssuer: text('oidc_issuer'),
    oidcSubject: text('oidc_subject'),
    createdAt: createdAt(),
    /** A disabled principal's tokens stop working. */
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    /**
     * The person answerable for this principal: set when a team admin creates it (directly, or by
     * minting a token without naming a principal). Separation of duties and the rate limit treat
     * a principal as the one it answers to; disabling that one disables this one too. Null: itself.
     */
    accountableTo: text('accountable_to'),
  },
  (table) => [index('principals_team_idx').on(table.teamId), index('principals_accountable_idx').on(table.accountableTo), uniqueIndex('principals_oidc_subject_uq').on(table.oidcIssuer, table.oidcSubject)],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    /** Null only for platform-wide admin tokens (the bootstrap token). */
    teamId: text('team_id').references(() => teams.id),
    /** Who the token acts for; migration 0009 gave every earlier token a service principal of its own. */
    principalId: text('principal_id')
      .notNull()
      .references(() => principals.id),
    role: text('role').$type<Role>().notNull(),
    /** SHA-256 of the secret part of the token; the token itself is never stored. */
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [index('api_tokens_team_idx').on(table.teamId)],
);

export const issuers = pgTable(
  'issuers',
  {
    id: text('id').primaryKey(),
    kind: text('kind').$type<'root' | 'intermediate'>().notNull(),
    parentId: text('parent_id'),
    status: text('status').$type<'active' | 'retiring' | 'compromised' | 'revoked'>().notNull(),
    commonName: text('common_name').notNull(),
    keyAlgorithm: text('key_algorithm').$type<KeyAlgorithm>().notNull(),
    certificatePem: text('certificate_pem').notNull(),
    /** Where the CA key lives: `software` (sealed in this row) or `pkcs11` (in the configured token, never here). */
    keyBackend: text('key_backend').$type<IssuerKeyBackend>().notNull().default('software'),
    /** `pkcs11`: the CKA_LABEL of the key pair in the token; `software`: null. */
    keyRef: text('key_ref'),
    /** `software`: PKCS#8 sealed with AES-256-GCM under the KEK (ca/key-encryption.ts); `pkcs11`: null. */
    sealedPrivateKey: text('sealed_private_key'),
    notBefore: timestamp('not_before', { withTimezone: true }).notNull(),
    notAfter: timestamp('not_after', { withTimezone: true }).notNull(),
    /** Set when status becomes `revoked`; the parent's CRL and OCSP responses list it from then on. */
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revocationReason: text('revocation_reason').$type<RevocationReason>(),
    createdAt: createdAt(),
  },
  (table) => [
    // Exactly one home per key: a sealed software key, or a reference into the token.
    check(
      'issuers_key_location_ck',
      sql`(${table.keyBackend} = 'software' and ${table.sealedPrivateKey} is not null and ${table.keyRef} is null) or (${table.keyBackend} = 'pkcs11' and ${table.sealedPrivateKey} is null and ${table.keyRef} is not null)`,
    ),
  ],
);

export type IssuerKeyBackend = 'software' | 'pkcs11';

/**
 * The latest CRL of each issuer (RFC 5280 §5). `crl_number` only grows: it is raised in the same
 * transaction that stores the CRL it numbers (db/revocation.ts).
 */
export const issuerCrls = pgTable('issuer_crls', {
  issuerId: text('issuer_id')
    .primaryKey()
    .references(() => issuers.id),
  crlNumber: bigint('crl_number', { mode: 'bigint' }).notNull(),
  thisUpdate: timestamp('this_update', { withTimezone: true }).notNull(),
  nextUpdate: timestamp('next_update', { withTimezone: true }).notNull(),
  /** How many certificates the CRL lists. */
  entryCount: integer('entry_count').notNull(),
  crlDer: bytea('crl_der').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Pre-signed OCSP responses (RFC 6960, in the style of RFC 5019): the worker signs one per
 * certificate and CertID hash algorithm on issuance, on revocation and when it gets old; the API
 * serves them and never holds a key. `response_der` is the complete OCSPResponse.
 */
export const ocspResponses = pgTable(
  'ocsp_responses',
  {
    issuerId: text('issuer_id')
      .notNull()
      .references(() => issuers.id),
    /** Canonical hex serial, as in certificate_versions.serial. */
    serial: text('serial').notNull(),
    hashAlgorithm: text('hash_algorithm').$type<'sha1' | 'sha256'>().notNull(),
    certStatus: text('cert_status').$type<'good' | 'revoked'>().notNull(),
    thisUpdate: timestamp('this_update', { withTimezone: true }).notNull(),
    nextUpdate: timestamp('next_update', { withTimezone: true }).notNull(),
    responseDer: bytea('response_der').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.issuerId, table.serial, table.hashAlgorithm] }),
    index('ocsp_responses_refresh_idx').on(table.issuerId, table.nextUpdate),
  ],
);

export const certificates = pgTable(
  'certificates',
  {
    id: text('id').primaryKey(),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id),
    commonName: text('common_name'),
    dnsNames: text('dns_names').array().notNull(),
    ipAddresses: text('ip_addresses').array().notNull(),
    uris: text('uris').array().notNull(),
    profile: text('profile').$type<Profile>().notNull(),
    keyAlgorithm: text('key_algorithm').$type<KeyAlgorithm>().notNull(),
    validitySeconds: integer('validity_seconds').notNull(),
    renewBeforeSeconds: integer('renew_before_seconds'),
    /** Present when the client keeps its own key; otherwise keys are generated server-side. */
    csrPem: text('csr_pem'),
    /** Where the private key is made: `server` (sealed here), `csr` (the client's CSR), `agent` (on the agent's host). */
    keySource: text('key_source').$type<KeySource>().notNull().default('server'),
    destinations: jsonb('destinations').$type<Destination[]>().notNull(),
    state: text('state').$type<CertState>().notNull(),
    currentVersionId: text('current_version_id'),
    workflowId: text('workflow_id').notNull(),
    /** Token id of the request. */
    requestedBy: text('requested_by').notNull(),
    /** Principal of the request (who may not approve it); null only for rows older than principals. */
    requestedByPrincipal: text('requested_by_principal'),
    /** Set once, by the first revocation: a version signed afterwards is recorded revoked with this time and reason. */
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revocationReason: text('revocation_reason').$type<RevocationReason>(),
    /** How it came to Certflow; `acme` certificates are renewed by their client, and carry the account. */
    source: text('source').$type<CertificateSource>().notNull().default('api'),
    acmeAccountId: text('acme_account_id'),
    /** `kubernetes` certificates: the cluster and cert-manager objects they were issued for. */
    kubernetes: jsonb('kubernetes').$type<KubernetesRef>(),
    /**
     * Set when Certflow wants the certificate renewed at once (a bulk reissue, a revocation, the
     * issuer compromise drill): ACME Renewal Information then suggests a window in the past.
     */
    renewalRequestedAt: timestamp('renewal_requested_at', { withTimezone: true }),
    renewalRequestReason: text('renewal_request_reason'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('certificates_team_created_idx').on(table.teamId, table.createdAt, table.id),
    index('certificates_created_idx').on(table.createdAt, table.id),
    // ACME finalize looks up the account's live certificates for exactly the order's names (api/acme/replacement.ts).
    index('certificates_acme_account_idx').on(table.acmeAccountId, table.state).where(sql`acme_account_id is not null`),
  ],
);

/**
 * Every leaf serial the CA is about to sign, written before signing: a certificate signed by a worker
 * that died before recording its version is still known (issuer, serial, certificate, generation).
 */
export const issuedSerials = pgTable(
  'issued_serials',
  {
    issuerId: text('issuer_id')
      .notNull()
      .references(() => issuers.id),
    serial: text('serial').notNull(),
    certificateId: text('certificate_id')
      .notNull()
      .references(() => certificates.id),
    generation: integer('generation').notNull(),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.issuerId, table.serial] }), index('issued_serials_certificate_idx').on(table.certificateId, table.generation)],
);

export const certificateKeys = pgTable(
  'certificate_keys',
  {
    id: text('id').primaryKey(),
    certificateId: text('certificate_id')
      .notNull()
      .references(() => certificates.id),
    generation: integer('generation').notNull(),
    keyAlgorithm: text('key_algorithm').$type<KeyAlgorithm>().notNull(),
    sealedPrivateKey: text('sealed_private_key').notNull(),
    publicKeySpki: text('public_key_spki').notNull(),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex('certificate_keys_generation_uq').on(table.certificateId, table.generation)],
);

export const certificateVersions = pgTable(
  'certificate_versions',
  {
    id: text('id').primaryKey(),
    certificateId: text('certificate_id')
      .notNull()
      .references(() => certificates.id),
    generation: integer('generation').notNull(),
    /** Null for a certificate Certflow did not sign (imported or discovered by a scan: `certificates.source`). */
    issuerId: text('issuer_id').references(() => issuers.id),
    /** Unique among the certificates Certflow signed; external certificates may repeat one (another CA's serial). */
    serial: text('serial').notNull(),
    certificatePem: text('certificate_pem').notNull(),
    notBefore: timestamp('not_before', { withTimezone: true }).notNull(),
    notAfter: timestamp('not_after', { withTimezone: true }).notNull(),
    /** Unique among Certflow's own; an external certificate is unique per team (`inventory_items`). */
    fingerprintSha256: text('fingerprint_sha256').notNull(),
    status: text('status').$type<VersionStatus>().notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revocationReason: text('revocation_reason').$type<RevocationReason>(),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex('certificate_versions_generation_uq').on(table.certificateId, table.generation),
    uniqueIndex('certificate_versions_serial_uq').on(table.serial).where(sql`issuer_id is not null`),
    uniqueIndex('certificate_versions_fingerprint_uq').on(table.fingerprintSha256).where(sql`issuer_id is not null`),
    index('certificate_versions_issuer_status_idx').on(table.issuerId, table.status),
    index('certificate_versions_not_after_idx').on(table.notAfter).where(sql`status = 'active'`),
  ],
);

/**
 * A certificate Certflow did not sign, tracked in the inventory (`certificates.source` `imported` or
 * `discovered`, one `certificate_versions` row without issuer): where it came from, when it was first
 * and last seen, the names the team's policy would not allow (imported anyway, flagged), and the managed
 * certificate that adopted it. One per team and SHA-256 fingerprint: importing or finding it again is a no-op.
 */
export const inventoryItems = pgTable(
  'inventory_items',
  {
    certificateId: text('certificate_id')
      .primaryKey()
      .references(() => certificates.id),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id),
    fingerprintSha256: text('fingerprint_sha256').notNull(),
    /** The file name of an import, or `host:port` of the scan that first found it. */
    origin: text('origin').notNull(),
    subject: text('subject').notNull(),
    issuerName: text('issuer_name').notNull(),
    /** What its key really is (e.g. `RSA-1024`); `certificates.key_algorithm` is what adopting it would request. */
    publicKey: text('public_key').notNull(),
    /** Its names the team's policy does not allow, each with why (core/inventory-import.ts). */
    policyFindings: jsonb('policy_findings').$type<Array<{ name: string; reason: string }>>().notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
    adoptedBy: text('adopted_by'),
    adoptedAt: timestamp('adopted_at', { withTimezone: true }),
  },
  (table) => [uniqueIndex('inventory_items_team_fingerprint_uq').on(table.teamId, table.fingerprintSha256)],
);

/**
 * Where a scan saw a certificate served (Certflow's own or a discovered one): `host:port`, the SNI name
 * sent, the chain served, first and last seen. A rescan updates `last_seen_at`.
 */
export const inventorySightings = pgTable(
  'inventory_sightings',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id),
    certificateId: text('certificate_id')
      .notNull()
      .references(() => certificates.id),
    endpoint: text('endpoint').notNull(),
    /** The SNI name sent ('' when the target was an IP address: no SNI). */
    serverName: text('server_name').notNull(),
    chainPem: text('chain_pem').notNull(),
    scanId: text('scan_id').notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
  },
  (table) => [uniqueIndex('inventory_sightings_uq').on(table.teamId, table.certificateId, table.endpoint, table.serverName)],
);

/**
 * Rollout of one version to one destination (DESIGN.md §3 "rollout"). `rollout_key` names the
 * workflow's request (e.g. `g3/rollout/1`, `g3/rollback/1`): a retried activity with the same key
 * finds its own row, a new request (a rollback, a retried rollout) resets the row to `pending`.
 * Agents pull `pending` rows of their destinations and report the serial they deployed.
 */
export const deliveries = pgTable(
  'deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    versionId: text('version_id')
      .notNull()
      .references(() => certificateVersions.id),
    destinationIndex: integer('destination_index').notNull(),
    destination: jsonb('destination').$type<Destination>().notNull(),
    state: text('state').$type<RolloutState>().notNull().default('delivered'),
    rolloutKey: text('rollout_key'),
    /** For `agent` destinations: the agent that must deploy it (indexed for its polling). */
    agentId: text('agent_id'),
    deployedSerial: text('deployed_serial'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    verifiedAt: timestamp('verified_at', { withTimezone: true }),
    lastError: text('last_error'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('deliveries_version_destination_uq').on(table.versionId, table.destinationIndex),
    index('deliveries_agent_pending_idx').on(table.agentId).where(sql`state = 'pending'`),
  ],
);

/**
 * Public keys that must never be certified again (SHA-256 of the SubjectPublicKeyInfo), e.g. keys
 * of certificates revoked for keyCompromise. Consulted by the key checks of every issuance.
 */
export const blockedKeys = pgTable('blocked_keys', {
  spkiSha256: text('spki_sha256').primaryKey(),
  reason: text('reason').notNull(),
  /** The certificate version whose revocation blocked the key, when there is one. */
  sourceVersionId: text('source_version_id'),
  createdAt: createdAt(),
});

/** One approval per certificate generation that policy says needs a human (DESIGN.md §3). */
export const approvals = pgTable(
  'approvals',
  {
    id: text('id').primaryKey(),
    certificateId: text('certificate_id')
      .notNull()
      .references(() => certificates.id),
    generation: integer('generation').notNull(),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id),
    state: text('state').$type<ApprovalState>().notNull(),
    reasons: jsonb('reasons').$type<ApprovalReason[]>().notNull(),
    requestedBy: text('requested_by').notNull(),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull().defaultNow(),
    deadlineAt: timestamp('deadline_at', { withTimezone: true }).notNull(),
    escalatedAt: timestamp('escalated_at', { withTimezone: true }),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    decisionReason: text('decision_reason'),
  },
  (table) => [uniqueIndex('approvals_certificate_generation_uq').on(table.certificateId, table.generation)],
);

/**
 * Append-only, hash-chained audit log (db/audit-chain.ts): `hash` = SHA-256 over the RFC 8785 JSON of
 * the event with the previous event's hash (chain version 2; version 1 rows, written before, keep
 * their old hash function), `mac` = HMAC of `hash` under the audit key the database does not hold.
 * A trigger refuses UPDATE, DELETE and TRUNCATE (migration 0010_audit_append_only).
 * `dedupe_key` makes an activity that records an event idempotent.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    teamId: text('team_id'),
    certificateId: text('certificate_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
    dedupeKey: text('dedupe_key').unique(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    /** The principal behind `actor` (a person or a service), when known. */
    principalId: text('principal_id'),
    /** 1: rows written before keyed sealing (unkeyed, old canonical form); 2: RFC 8785 + `mac`. */
    chainVersion: integer('chain_version').notNull().default(1),
    mac: text('mac'),
  },
  (table) => [index('audit_events_certificate_idx').on(table.certificateId, table.seq)],
);

/**
 * Signed heads of the audit chain (db/audit.ts `checkpointAuditLog`): the newest row's seq and hash
 * at `at`, MACed under the audit key. A checkpoint naming a row that is gone reveals deleted newest
 * rows. Append-only like audit_events.
 */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  hash: text('hash').notNull(),
  at: timestamp('at', { withTimezone: true }).notNull(),
  mac: text('mac').notNull(),
});

/**
 * Outbox of notifications to people (core/notifications.ts lists the kinds), one row per event and
 * recipient group, written once per `dedupe_key` in the transaction-free manner of the audit log.
 * The `notificationDelivery` workflow fans each row out to the team's contacts once
 * (`fanned_out_at`) and delivers it (notification_deliveries).
 */
export const notifications = pgTable(
  'notifications',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    teamId: text('team_id').notNull(),
    certificateId: text('certificate_id'),
    kind: text('kind').notNull(),
    recipients: text('recipients').array().notNull(),
    message: text('message').notNull(),
    dedupeKey: text('dedupe_key').notNull().unique(),
    createdAt: createdAt(),
    /** Machine-readable facts of the event (deadline, expiry, bulk counts), sent with the message. */
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    /** When its deliveries (one per contact of the team then) were created; null: not yet. */
    fannedOutAt: timestamp('fanned_out_at', { withTimezone: true }),
  },
  (table) => [index('notifications_team_idx').on(table.teamId, table.id), index('notifications_fan_out_idx').on(table.id).where(sql`fanned_out_at is null`)],
);

/**
 * Where a team's notifications go: a webhook (HMAC-signed, Certflow JSON or a Slack-compatible
 * body) or an email address. A webhook's signing secret is sealed like destination secrets (the API
 * seals to the worker's sealing key; ca/contact-secrets.ts). Removed contacts stay for the history
 * of their deliveries.
 */
export const teamContacts = pgTable(
  'team_contacts',
  {
    id: text('id').primaryKey(),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id),
    channel: text('channel').$type<ContactChannel>().notNull(),
    /** `webhook`: the URL; `email`: the address. */
    target: text('target').notNull(),
    /** `webhook` only: `certflow` (signed JSON) or `slack` (`{text}`, also signed). */
    format: text('format').$type<WebhookContactFormat>(),
    /** `webhook` only: the sealed HMAC secret. */
    sealedSecret: text('sealed_secret'),
    /** The notification kinds it receives; null: every kind. */
    kinds: text('kinds').array(),
    createdByPrincipal: text('created_by_principal').notNull(),
    createdAt: createdAt(),
    removedAt: timestamp('removed_at', { withTimezone: true }),
  },
  (table) => [index('team_contacts_team_idx').on(table.teamId)],
);

export type ContactChannel = 'webhook' | 'email';
export type WebhookContactFormat = 'certflow' | 'slack';
export type NotificationDeliveryState = 'pending' | 'delivered' | 'failed' | 'cancelled';

/**
 * One notification to one contact. A worker claims a due row (FOR UPDATE SKIP LOCKED) by raising
 * `attempts` and setting a lease (`claimed_until`), sends it outside the transaction and marks it;
 * a worker that dies in between leaves the lease to expire and the row is sent again with the same
 * idempotency key (db/notification-deliveries.ts).
 */
export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    notificationId: bigint('notification_id', { mode: 'number' })
      .notNull()
      .references(() => notifications.id),
    contactId: text('contact_id')
      .notNull()
      .references(() => teamContacts.id),
    state: text('state').$type<NotificationDeliveryState>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    claimedUntil: timestamp('claimed_until', { withTimezone: true }),
    lastError: text('last_error'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex('notification_deliveries_uq').on(table.notificationId, table.contactId),
    index('notification_deliveries_due_idx').on(table.nextAttemptAt).where(sql`state = 'pending'`),
  ],
);

/** Hosts running `certflow agent`, each with its own token (stored as SHA-256 only). */
export const agents = pgTable(
  'agents',
  {
    id: text('id').primaryKey(),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: createdAt(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [uniqueIndex('agents_team_name_uq').on(table.teamId, table.name)],
);

/**
 * CSRs for certificates whose key is made on an agent: the workflow opens a request (csr_pem null)
 * per generation, the agent generates a key locally and answers with a CSR.
 */
export const agentCsrs = pgTable(
  'agent_csrs',
  {
    certificateId: text('certificate_id')
      .notNull()
      .references(() => certificates.id),
    generation: integer('generation').notNull(),
    agentId: text('agent_id').notNull(),
    csrPem: text('csr_pem'),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull().defaultNow(),
    submittedAt: timestamp('submitted_at', { withTimezone: true }),
  },
  (table) => [primaryKey({ columns: [table.certificateId, table.generation] }), index('agent_csrs_agent_idx').on(table.agentId)],
);

/** Bulk reissue operations (DESIGN.md §4): what was asked, by whom, and how it ended. */
export const bulkOperations = pgTable('bulk_operations', {
  id: text('id').primaryKey(),
  selector: jsonb('selector').$type<BulkSelector>().notNull(),
  options: jsonb('options').$type<BulkOptions>().notNull(),
  state: text('state').$type<BulkState>().notNull(),
  /** The last counts the workflow recorded (live counts come from its `progress` query). */
  counts: jsonb('counts').$type<BulkCounts>().notNull(),
  workflowId: text('workflow_id').notNull(),
  createdBy: text('created_by').notNull(),
  /** Team of the token that started it (it sees the operation); null for a platform admin. */
  teamId: text('team_id'),
  createdAt: createdAt(),
  finishedAt: timestamp('finished_at', { withTimezone: true }),
});

/** One row per certificate a bulk operation selected, with its outcome once known. */
export const bulkItems = pgTable(
  'bulk_items',
  {
    bulkId: text('bulk_id')
      .notNull()
      .references(() => bulkOperations.id),
    certificateId: text('certificate_id')
      .notNull()
      .references(() => certificates.id),
    oldVersionId: text('old_version_id'),
    newVersionId: text('new_version_id'),
    /** Null while in flight. */
    outcome: text('outcome').$type<BulkOutcome>(),
    reason: text('reason'),
    /** When the superseded version was revoked by the operation. */
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    /** An ACME certificate renewed by its client: when its client was asked (ARI) to renew; the outcome follows the client's renewal. */
    signalledAt: timestamp('signalled_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.bulkId, table.certificateId] }), index('bulk_items_outcome_idx').on(table.bulkId, table.outcome)],
);

/**
 * `Idempotency-Key`s of `POST /v1/certificates`, per scope (the token's team, or the token for a
 * platform admin): the request they were first used with (SHA-256 of its canonical JSON), the
 * certificate id it creates, the lifecycle start once the certificate row is written, and the
 * answer once given. `holder`/`held_until` is the lease of the request working on it; an expired
 * lease without an answer lets a retry resume. Kept for 24 hours at least (api/idempotency.ts).
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    certificateId: text('certificate_id').notNull(),
    start: jsonb('start').$type<{ certificateId: string; teamName: string; commonName: string | null; input: LifecycleInput }>(),
    responseStatus: integer('response_status'),
    /** The answer's JSON exactly as first sent, so that a replay is the same bytes. */
    responseBody: text('response_body'),
    holder: text('holder').notNull(),
    heldUntil: timestamp('held_until', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.scope, table.key] }), index('idempotency_keys_created_idx').on(table.createdAt)],
);

/**
 * Who owns each exclusive destination (core/destination-claims.ts): a `file` directory or an agent
 * target belongs to the certificate that first claimed it, in the transaction that stored that
 * certificate. The primary key refuses a second owner of the same key; directories nested in each
 * other are refused under an advisory lock (db/destination-claims.ts).
 */
export const destinationClaims = pgTable(
  'destination_claims',
  {
    key: text('key').primaryKey(),
    certificateId: text('certificate_id')
      .notNull()
      .references(() => certificates.id, { onDelete: 'cascade' }),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id),
    createdAt: createdAt(),
  },
  (table) => [index('destination_claims_certificate_idx').on(table.certificateId)],
);

/**
 * ACME external account binding keys (RFC 8555 §7.3.4). The HMAC key is not stored: it is derived
 * from the key id and the API's EAB secret (api/acme/eab.ts), so a copy of the database binds nothing.
 */
export const acmeEabKeys = pgTable('acme_eab_keys', {
  id: text('id').primaryKey(),
  teamId: text('team_id')
    .notNull()
    .references(() => teams.id),
  createdByPrincipal: text('created_by_principal').notNull(),
  createdAt: createdAt(),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
});

/** ACME accounts: one per account key (its RFC 7638 thumbprint), bound to a team through an EAB key. */
export const acmeAccounts = pgTable(
  'acme_accounts',
  {
    id: text('id').primaryKey(),
    /** Null only for unbound accounts, which the platform refuses unless configured to allow them. */
    teamId: text('team_id').references(() => teams.id),
    eabKeyId: text('eab_key_id').references(() => acmeEabKeys.id),
    jwk: jsonb('jwk').$type<Record<string, string>>().notNull(),
    thumbprint: text('thumbprint').notNull(),
    contact: text('contact').array().notNull(),
    status: text('status').$type<AccountStatus>().notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('acme_accounts_thumbprint_uq').on(table.thumbprint), index('acme_accounts_team_idx').on(table.teamId)],
);

/** Spent ACME nonces (RFC 8555 §6.5; api/acme/nonces.ts), kept until they expire so that a replay is refused by every API replica. */
export const acmeNonces = pgTable(
  'acme_nonces',
  {
    nonce: text('nonce').primaryKey(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (table) => [index('acme_nonces_expires_idx').on(table.expiresAt)],
);

/**
 * ACME orders. Finalizing one makes it a Certflow certificate's generation: a new certificate
 * (generation 1), or the next generation of the certificate it replaces (RFC 9773 `replaces`).
 */
export const acmeOrders = pgTable(
  'acme_orders',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id')
      .notNull()
      .references(() => acmeAccounts.id),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id),
    status: text('status').$type<OrderStatus>().notNull(),
    identifiers: jsonb('identifiers').$type<AcmeIdentifier[]>().notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    /** RFC 7807 problem of an invalid order. */
    error: jsonb('error').$type<Record<string, unknown>>(),
    /** The version this order replaces (RFC 9773); a second order for the same one gets `alreadyReplaced`. */
    replacesVersionId: text('replaces_version_id').references(() => certificateVersions.id),
    certificateId: text('certificate_id').references(() => certificates.id),
    generation: integer('generation'),
    csrPem: text('csr_pem'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('acme_orders_account_idx').on(table.accountId, table.createdAt),
    uniqueIndex('acme_orders_generation_uq').on(table.certificateId, table.generation),
    uniqueIndex('acme_orders_replaces_uq').on(table.replacesVersionId).where(sql`status <> 'invalid'`),
  ],
);

export const acmeAuthorizations = pgTable(
  'acme_authorizations',
  {
    id: text('id').primaryKey(),
    orderId: text('order_id')
      .notNull()
      .references(() => acmeOrders.id),
    accountId: text('account_id')
      .notNull()
      .references(() => acmeAccounts.id),
    identifier: jsonb('identifier').$type<AcmeIdentifier>().notNull(),
    wildcard: boolean('wildcard').notNull().default(false),
    status: text('status').$type<AuthorizationStatus>().notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (table) => [index('acme_authorizations_order_idx').on(table.orderId)],
);

export const acmeChallenges = pgTable(
  'acme_challenges',
  {
    id: text('id').primaryKey(),
    authorizationId: text('authorization_id')
      .notNull()
      .references(() => acmeAuthorizations.id),
    type: text('type').$type<ChallengeType>().notNull(),
    token: text('token').notNull(),
    status: text('status').$type<ChallengeStatus>().notNull(),
    validatedAt: timestamp('validated_at', { withTimezone: true }),
    error: jsonb('error').$type<Record<string, unknown>>(),
    createdAt: createdAt(),
  },
  (table) => [index('acme_challenges_authorization_idx').on(table.authorizationId)],
);

/**
 * Kubernetes clusters a platform admin registered for `kubernetes` destinations: where the API
 * server is, the CA that signs its serving certificate, and a service-account token sealed to the
 * worker's sealing key (ca/destination-secrets.ts), which the API cannot open.
 */
export const kubernetesClusters = pgTable('kubernetes_clusters', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  apiUrl: text('api_url').notNull(),
  caBundlePem: text('ca_bundle_pem').notNull(),
  sealedToken: text('sealed_token').notNull(),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** The namespaces of a registered cluster each team's `kubernetes` destinations may write to. */
export const kubernetesNamespaceGrants = pgTable(
  'kubernetes_namespace_grants',
  {
    clusterId: text('cluster_id')
      .notNull()
      .references(() => kubernetesClusters.id, { onDelete: 'cascade' }),
    teamId: text('team_id')
      .notNull()
      .references(() => teams.id),
    namespace: text('namespace').notNull(),
    createdAt: createdAt(),
  },
  (table) => [primaryKey({ columns: [table.clusterId, table.teamId, table.namespace] })],
);

/**
 * Error tracking (docs/operations.md "Error groups"): failures of the activities that issue, roll out,
 * verify and renew certificates, grouped by error type and normalised reason (core/error-reason.ts)
 * per team. `team_id` null: a failure outside any team's certificate (platform groups, admins only).
 */
export const errorGroups = pgTable(
  'error_groups',
  {
    id: text('id').primaryKey(),
    teamId: text('team_id').references(() => teams.id),
    type: text('type').notNull(),
    reason: text('reason').notNull(),
    /** The latest failure's own message (not normalised), already redacted. */
    lastMessage: text('last_message').notNull(),
    /** The activity that failed last (e.g. issueCertificate, deliverVersion, verifyServed). */
    lastActivity: text('last_activity').notNull(),
    firstSeen: timestamp('first_seen', { withTimezone: true }).notNull(),
    lastSeen: timestamp('last_seen', { withTimezone: true }).notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
  },
  (table) => [
    unique('error_groups_key').on(table.teamId, table.type, table.reason).nullsNotDistinct(),
    index('error_groups_last_seen_idx').on(table.lastSeen),
  ],
);

/** Which certificates a group's failures came from: how many are affected, and the latest samples. */
export const errorGroupCertificates = pgTable(
  'error_group_certificates',
  {
    groupId: text('group_id')
      .notNull()
      .references(() => errorGroups.id),
    certificateId: text('certificate_id').notNull(),
    firstSeen: timestamp('first_seen', { withTimezone: true }).notNull(),
    lastSeen: timestamp('last_seen', { withTimezone: true }).notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.groupId, table.certificateId] }), index('error_group_certificates_recent_idx').on(table.groupId, table.lastSeen)],
);

/**
 * The cert-manager CertificateRequests a `kubernetes` certificate was issued for, one per
 * generation: a new request for the same cert-manager Certificate is the certificate's next
 * generation (api/kubernetes-renewal.ts). The request's UID is unique, so a retried submission
 * finds its generation; `(certificate_id, generation)` is unique, so two requests cannot both take one.
 */
export const kubernetesRequests = pgTable(
  'kubernetes_requests',
  {
    uid: text('uid').primaryKey(),
    certificateId: text('certificate_id')
      .notNull()
      .references(() => certificates.id, { onDelete: 'cascade' }),
    generation: integer('generation').notNull(),
    certificateRequest: text('certificate_request').notNull(),
    /** cert-manager's `cert-manager.io/certificate-revision` of the request. */
    revision: integer('revision'),
    createdAt: createdAt(),
  },
  (table) => [uniqueIndex('kubernetes_requests_generation_uq').on(table.certificateId, table.generation)],
);
