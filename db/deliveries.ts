import type { Destination } from '../core/types.js';
import type { Queryable } from './database.js';
import { deliveries } from './schema.js';

export async function recordDelivery(db: Queryable, versionId: string, destinationIndex: number, destination: Destination): Promise<void> {
  await db.insert(deliveries).values({ versionId, destinationIndex, destination }).onConflictDoNothing();
}
