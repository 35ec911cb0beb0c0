import { and, eq } from 'drizzle-orm';
import type { Queryable } from './database.js';
import { certificateKeys } from './schema.js';

export type CertificateKeyRow = typeof certificateKeys.$inferSelect;
export type NewCertificateKey = typeof certificateKeys.$inferInsert;

export async function findCertificateKey(db: Queryable, certificateId: string, generation: number): Promise<CertificateKeyRow | null> {
  const [row] = await db
    .select()
    .from(certificateKeys)
    .where(and(eq(certificateKeys.certificateId, certificateId), eq(certificateKeys.generation, generation)));
  return row ?? null;
}

/** Stores a generated key for a generation; if one is already stored (a retry), that one is returned. */
export async function storeCertificateKey(db: Queryable, key: NewCertificateKey): Promise<CertificateKeyRow> {
  const [inserted] = await db
    .insert(certificateKeys)
    .values(key)
    .onConflictDoNothing({ target: [certificateKeys.certificateId, certificateKeys.generation] })
    .returning();
  const stored = inserted ?? (await findCertificateKey(db, key.certificateId, key.generation));
  if (!stored) throw new Error(`key ${key.certificateId}/${key.generation} vanished while storing`);
  return stored;
}
