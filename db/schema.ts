/**
 * The Postgres schema (DESIGN.md §3). Migrations in db/migrations are generated from this file by
 * `npm run db:generate` and committed.
 */
import { sql } from 'drizzle-orm';
import { bigserial, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import type { TeamPolicy } from '../core/policy.js';
import type { CertState, Destination, KeyAlgorithm, Profile, RevocationReason, Role, VersionStatus } from '../core/types.js';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const teams = pgTable('teams', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  policy: jsonb('policy').$type<TeamPolicy>().notNull(),
  createdAt: createdAt(),
});

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    /** Null only for platform-wide admin tokens (the bootstrap token). */
    teamId: text('team_id').references(() => teams.id),
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

export const issuers = pgTable('issuers', {
  id: text('id').primaryKey(),
  kind: text('kind').$type<'root' | 'intermediate'>().notNull(),
  parentId: text('parent_id'),
  status: text('status').$type<'active' | 'retiring' | 'compromised' | 'revoked'>().notNull(),
  commonName: text('common_name').notNull(),
  keyAlgorithm: text('key_algorithm').$type<KeyAlgorithm>().notNull(),
  certificatePem: text('certificate_pem').notNull(),
  /** PKCS#8 sealed with AES-256-GCM under the KEK (ca/key-encryption.ts). */
  sealedPrivateKey: text('sealed_private_key').notNull(),
  notBefore: timestamp('not_before', { withTimezone: true }).notNull(),
  notAfter: timestamp('not_after', { withTimezone: true }).notNull(),
  createdAt: createdAt(),
});

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
    destinations: jsonb('destinations').$type<Destination[]>().notNull(),
    state: text('state').$type<CertState>().notNull(),
    currentVersionId: text('current_version_id'),
    workflowId: text('workflow_id').notNull(),
    requestedBy: text('requested_by').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('certificates_team_created_idx').on(table.teamId, table.createdAt, table.id),
    index('certificates_created_idx').on(table.createdAt, table.id),
  ],
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
    issuerId: text('issuer_id')
      .notNull()
      .references(() => issuers.id),
    serial: text('serial').notNull().unique(),
    certificatePem: text('certificate_pem').notNull(),
    notBefore: timestamp('not_before', { withTimezone: true }).notNull(),
    notAfter: timestamp('not_after', { withTimezone: true }).notNull(),
    fingerprintSha256: text('fingerprint_sha256').notNull().unique(),
    status: text('status').$type<VersionStatus>().notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revocationReason: text('revocation_reason').$type<RevocationReason>(),
    createdAt: createdAt(),
  },
  (table) => [
    uniqueIndex('certificate_versions_generation_uq').on(table.certificateId, table.generation),
    index('certificate_versions_issuer_status_idx').on(table.issuerId, table.status),
    index('certificate_versions_not_after_idx').on(table.notAfter).where(sql`status = 'active'`),
  ],
);

export const deliveries = pgTable(
  'deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    versionId: text('version_id')
      .notNull()
      .references(() => certificateVersions.id),
    destinationIndex: integer('destination_index').notNull(),
    destination: jsonb('destination').$type<Destination>().notNull(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('deliveries_version_destination_uq').on(table.versionId, table.destinationIndex)],
);
