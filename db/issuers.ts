import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Queryable } from './database.js';
import { prepared } from './prepared.js';
import { issuers } from './schema.js';

export type IssuerRow = typeof issuers.$inferSelect;
export type NewIssuer = typeof issuers.$inferInsert;

export async function insertIssuer(db: Queryable, issuer: NewIssuer): Promise<void> {
  await db.insert(issuers).values(issuer);
}

export async function findIssuer(db: Queryable, id: string): Promise<IssuerRow | null> {
  const [row] = await db.select().from(issuers).where(eq(issuers.id, id));
  return row ?? null;
}

/** The intermediate new certificates are signed by: the newest active one. */
export async function findActiveIntermediate(db: Queryable): Promise<IssuerRow | null> {
  const query = (on: Queryable) => on.select().from(issuers).where(and(eq(issuers.kind, 'intermediate'), eq(issuers.status, 'active'))).orderBy(desc(issuers.createdAt)).limit(1);
  const statement = prepared(db, 'active_intermediate', (pool) => query(pool).prepare('active_intermediate'));
  const [row] = statement ? await statement.execute() : await query(db);
  return row ?? null;
}

export async function listIssuers(db: Queryable): Promise<IssuerRow[]> {
  return db.select().from(issuers).orderBy(asc(issuers.createdAt), asc(issuers.id));
}

/** Roots relying parties should trust: active or retiring, never compromised or revoked ones. */
export async function listTrustedRoots(db: Queryable): Promise<IssuerRow[]> {
  return db
    .select()
    .from(issuers)
    .where(and(eq(issuers.kind, 'root'), inArray(issuers.status, ['active', 'retiring'])))
    .orderBy(asc(issuers.createdAt));
}

/** Chains already read, by issuer id: an issuer's certificate and its parent never change once it exists. */
const chains = new Map<string, string>();
const CHAINS_MAX = 1_000;

/** PEM of the chain above a leaf of this issuer: the issuer up to, not including, the root. */
export async function issuerChainPem(db: Queryable, issuerId: string): Promise<string> {
  const cached = chains.get(issuerId);
  if (cached) return cached;
  const chain: string[] = [];
  let current = await findIssuer(db, issuerId);
  while (current && current.kind !== 'root') {
    chain.push(current.certificatePem.trim());
    current = current.parentId ? await findIssuer(db, current.parentId) : null;
  }
  const pem = `${chain.join('\n')}\n`;
  // Only a chain that reached its root: an issuer not (yet) visible is read again next time.
  if (current) {
    if (chains.size >= CHAINS_MAX) chains.clear();
    chains.set(issuerId, pem);
  }
  return pem;
}
