/** Opaque keyset cursors for list endpoints: base64url of `{createdAt, id}` of the last item. */
import { z } from 'zod';
import { problems } from './problem.js';

const cursorSchema = z.strictObject({ createdAt: z.iso.datetime(), id: z.string().min(1).max(64) });

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ createdAt: row.createdAt.toISOString(), id: row.id })).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const parsed = cursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return { createdAt: new Date(parsed.createdAt), id: parsed.id };
  } catch {
    throw problems.validation('cursor is not one this API returned; pass the nextCursor of the previous page unchanged', [
      { field: 'cursor', message: 'not a valid cursor' },
    ]);
  }
}
