/**
 * KEK rotation (`certflow kek rotate`): re-seals every stored secret under the current KEK of the
 * ring — issuer keys, certificate keys, webhook secrets, Kubernetes cluster tokens and contact signing secrets
 * (sealed boxes to the sealing key derived from the current KEK). Runs while the platform runs: each row is rewritten with a
 * compare-and-set on the blob it read, in one transaction per batch, so a crash or a `limit` leaves
 * a mix that a worker holding both KEKs opens, and running it again finishes the job (rows already
 * under the current KEK are counted and left alone).
 */
import { and, asc, gt, isNotNull, sql } from 'drizzle-orm';
import {
  clusterTokenContext,
  destinationSecretSealedTo,
  openClusterToken,
  openDestinationSecret,
  sealDestinationSecret,
  workerSealingKey,
} from '../ca/destination-secrets.js';
import { sealToPublicKey } from '../ca/sealed-box.js';
import { kekId, openPrivateKey, sealedKekId, sealPrivateKey, type KekRing } from '../ca/key-encryption.js';
import type { Destination } from '../core/types.js';
import type { Database } from './database.js';
import { certificateKeys, certificates, issuers, kubernetesClusters, teamContacts } from './schema.js';
import { contactSecretSealedTo, resealContactSecret } from '../ca/contact-secrets.js';

export interface RotationCounts {
  /** Re-sealed by this run. */
  resealed: number;
  /** Already under the current KEK (or sealed to the current sealing key). */
  current: number;
  /** Rows without a sealed key (e.g. an issuer whose key lives in an HSM). */
  skipped: number;
  /** Blobs that no configured KEK opens: named in `failures`, left as they are. */
  failed: number;
}

export interface KekRotationReport {
  kekId: string;
  issuerKeys: RotationCounts;
  certificateKeys: RotationCounts;
  webhookSecrets: RotationCounts;
  clusterTokens: RotationCounts;
  /** Signing secrets of teams' webhook contacts (notifications). */
  contactSecrets: RotationCounts;
  failures: string[];
  /** Blobs not yet under the current KEK after this run. */
  remaining: number;
  /** True when every blob is under the current KEK: the previous KEK may be removed. */
  complete: boolean;
}

export interface KekRotationOptions {
  /** Rows read and rewritten per transaction. */
  batchSize?: number;
  /** Stop after re-sealing this many blobs (a later run continues). */
  limit?: number;
}

const DEFAULT_BATCH_SIZE = 200;

interface Sealed {
  id: string;
  sealed: string | null;
}

export async function rotateKek(db: Database, ring: KekRing, options: KekRotationOptions = {}): Promise<KekRotationReport> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  let budget = options.limit ?? Number.POSITIVE_INFINITY;
  const failures: string[] = [];
  const currentId = kekId(ring.current);

  const resealKeys = async (table: typeof issuers | typeof certificateKeys, what: string): Promise<RotationCounts> => {
    const counts = emptyCounts();
    let after = '';
    for (;;) {
      const rows: Sealed[] = await db
        .select({ id: table.id, sealed: table.sealedPrivateKey })
        .from(table)
        .where(and(gt(table.id, after), isNotNull(table.sealedPrivateKey)))
        .orderBy(asc(table.id))
        .limit(batchSize);
      if (rows.length === 0) return counts;
      after = rows.at(-1)!.id;
      await db.transaction(async (tx) => {
        for (const row of rows) {
          if (!row.sealed) {
            counts.skipped++;
            continue;
          }
          if (safeKekId(row.sealed) === currentId) {
            counts.current++;
            continue;
          }
          if (budget <= 0) continue;
          let resealed: string;
          try {
            const plaintext = openPrivateKey(ring, row.sealed, row.id);
            resealed = sealPrivateKey(ring.current, plaintext, row.id);
            plaintext.fill(0);
          } catch (error) {
            counts.failed++;
            failures.push(`${what} ${row.id}: ${(error as Error).message}`);
            continue;
          }
          const updated = await tx
            .update(table)
            .set({ sealedPrivateKey: resealed })
            .where(sql`${table.id} = ${row.id} and ${table.sealedPrivateKey} = ${row.sealed}`)
            .returning({ id: table.id });
          // A row rewritten meanwhile was re-sealed by someone else (a concurrent rotation): theirs stands.
          if (updated.length === 1) {
            counts.resealed++;
            budget--;
          }
        }
      });
    }
  };

  const resealWebhookSecrets = async (): Promise<RotationCounts> => {
    const counts = emptyCounts();
    const sealingKey = workerSealingKey(ring.current).publicKey;
    let after = '';
    for (;;) {
      const rows = await db
        .select({ id: certificates.id, destinations: certificates.destinations })
        .from(certificates)
        .where(and(gt(certificates.id, after), sql`${certificates.destinations} @> '[{"type":"webhook"}]'::jsonb`))
        .orderBy(asc(certificates.id))
        .limit(batchSize);
      if (rows.length === 0) return counts;
      after = rows.at(-1)!.id;
      await db.transaction(async (tx) => {
        for (const row of rows) {
          let changed = 0;
          const next: Destination[] = row.destinations.map((destination, index) => {
            if (destination.type !== 'webhook') return destination;
            if (destinationSecretSealedTo(destination.sealedSecret, sealingKey)) {
              counts.current++;
              return destination;
            }
            if (budget - changed <= 0) return destination;
            try {
              const secret = openDestinationSecret(ring, destination.sealedSecret, row.id, index);
              const sealedSecret = sealDestinationSecret(sealingKey, secret, row.id, index);
              secret.fill(0);
              changed++;
              return { ...destination, sealedSecret };
            } catch (error) {
              counts.failed++;
              failures.push(`webhook secret ${row.id} destination #${index}: ${(error as Error).message}`);
              return destination;
            }
          });
          if (changed === 0) continue;
          const updated = await tx
            .update(certificates)
            .set({ destinations: next })
            .where(sql`${certificates.id} = ${row.id} and ${certificates.destinations} = ${JSON.stringify(row.destinations)}::jsonb`)
            .returning({ id: certificates.id });
          if (updated.length === 1) {
            counts.resealed += changed;
            budget -= changed;
          }
        }
      });
    }
  };

  const resealClusterTokens = async (): Promise<RotationCounts> => {
    const counts = emptyCounts();
    const sealingKey = workerSealingKey(ring.current).publicKey;
    const rows = await db.select({ id: kubernetesClusters.id, sealed: kubernetesClusters.sealedToken }).from(kubernetesClusters).orderBy(asc(kubernetesClusters.id));
    for (const row of rows) {
      if (destinationSecretSealedTo(row.sealed, sealingKey)) {
        counts.current++;
        continue;
      }
      if (budget <= 0) continue;
      let resealed: string;
      try {
        const token = openClusterToken(ring, row.sealed, row.id);
        resealed = sealToPublicKey(sealingKey, token, clusterTokenContext(row.id));
        token.fill(0);
      } catch (error) {
        counts.failed++;
        failures.push(`cluster token ${row.id}: ${(error as Error).message}`);
        continue;
      }
      const updated = await db
        .update(kubernetesClusters)
        .set({ sealedToken: resealed })
        .where(sql`${kubernetesClusters.id} = ${row.id} and ${kubernetesClusters.sealedToken} = ${row.sealed}`)
        .returning({ id: kubernetesClusters.id });
      if (updated.length === 1) {
        counts.resealed++;
        budget--;
      }
    }
    return counts;
  };

  const resealContactSecrets = async (): Promise<RotationCounts> => {
    const counts = emptyCounts();
    const sealingKey = workerSealingKey(ring.current).publicKey;
    let after = '';
    for (;;) {
      const rows = await db
        .select({ id: teamContacts.id, sealed: teamContacts.sealedSecret })
        .from(teamContacts)
        .where(and(gt(teamContacts.id, after), isNotNull(teamContacts.sealedSecret)))
        .orderBy(asc(teamContacts.id))
        .limit(batchSize);
      if (rows.length === 0) return counts;
      after = rows.at(-1)!.id;
      for (const row of rows) {
        if (contactSecretSealedTo(row.sealed!, sealingKey)) {
          counts.current++;
          continue;
        }
        if (budget <= 0) continue;
        let resealed: string;
        try {
          resealed = resealContactSecret(ring, sealingKey, row.sealed!, row.id);
        } catch (error) {
          counts.failed++;
          failures.push(`contact secret ${row.id}: ${(error as Error).message}`);
          continue;
        }
        const updated = await db
          .update(teamContacts)
          .set({ sealedSecret: resealed })
          .where(sql`${teamContacts.id} = ${row.id} and ${teamContacts.sealedSecret} = ${row.sealed}`)
          .returning({ id: teamContacts.id });
        if (updated.length === 1) {
          counts.resealed++;
          budget--;
        }
      }
    }
  };

  const issuerKeys = await resealKeys(issuers, 'issuer');
  const leafKeys = await resealKeys(certificateKeys, 'certificate key');
  const webhookSecrets = await resealWebhookSecrets();
  const clusterTokens = await resealClusterTokens();
  const contactSecrets = await resealContactSecrets();
  const remaining = await remainingUnderOtherKeks(db, ring);
  return { kekId: currentId, issuerKeys, certificateKeys: leafKeys, webhookSecrets, clusterTokens, contactSecrets, failures, remaining, complete: remaining === 0 };
}

/** How many blobs are not yet under the current KEK (what a rotation still has to do). */
export async function remainingUnderOtherKeks(db: Database, ring: KekRing): Promise<number> {
  const currentId = kekId(ring.current);
  const prefix = `v2.${currentId}.`;
  const [keyCounts] = await db.execute<{ count: string }>(sql`
    select (select count(*) from ${issuers} where ${issuers.sealedPrivateKey} is not null and ${issuers.sealedPrivateKey} not like ${prefix + '%'})
         + (select count(*) from ${certificateKeys} where ${certificateKeys.sealedPrivateKey} not like ${prefix + '%'}) as count`).then((result) => result.rows);
  const sealingKey = workerSealingKey(ring.current).publicKey;
  const [secretCounts] = await db.execute<{ count: string }>(sql`
    select count(*) as count
    from ${certificates}, jsonb_array_elements(${certificates.destinations}) as destination
    where destination->>'type' = 'webhook' and destination->>'sealedSecret' not like ${`sb1.${sealingKey.id}.%`}`).then((result) => result.rows);
  const [tokenCounts] = await db.execute<{ count: string }>(sql`
    select count(*) as count from ${kubernetesClusters} where ${kubernetesClusters.sealedToken} not like ${`sb1.${sealingKey.id}.%`}`).then((result) => result.rows);
  const [contactCounts] = await db.execute<{ count: string }>(sql`
    select count(*) as count from ${teamContacts}
    where ${teamContacts.sealedSecret} is not null and ${teamContacts.sealedSecret} not like ${`sb1.${sealingKey.id}.%`}`).then((result) => result.rows);
  return Number(keyCounts?.count ?? 0) + Number(secretCounts?.count ?? 0) + Number(tokenCounts?.count ?? 0) + Number(contactCounts?.count ?? 0);
}

function safeKekId(sealed: string): string | null {
  try {
    return sealedKekId(sealed);
  } catch {
    return null;
  }
}

function emptyCounts(): RotationCounts {
  return { resealed: 0, current: 0, skipped: 0, failed: 0 };
}
