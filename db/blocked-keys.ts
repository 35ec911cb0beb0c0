import { eq, sql } from 'drizzle-orm';
import { prepared } from './prepared.js';
import type { KeyBlocklist } from '../ca/key-checks.js';
import type { Queryable } from './database.js';
import { blockedKeys } from './schema.js';

export async function blockKey(db: Queryable, entry: { spkiSha256: string; reason: string; sourceVersionId: string | null }): Promise<void> {
  await db.insert(blockedKeys).values(entry).onConflictDoNothing();
}

/** The key blocklist the issuance pipeline consults, backed by the `blocked_keys` table. */
export function databaseKeyBlocklist(db: Queryable): KeyBlocklist {
  return {
    async isBlocked(spkiSha256Hex) {
      const statement = prepared(db, 'blocked_key', (pool) =>
        pool.select({ spkiSha256: blockedKeys.spkiSha256 }).from(blockedKeys).where(eq(blockedKeys.spkiSha256, sql.placeholder('spki'))).prepare('blocked_key'),
      );
      const [row] = statement
        ? await statement.execute({ spki: spkiSha256Hex })
        : await db.select({ spkiSha256: blockedKeys.spkiSha256 }).from(blockedKeys).where(eq(blockedKeys.spkiSha256, spkiSha256Hex));
      return row !== undefined;
    },
  };
}
