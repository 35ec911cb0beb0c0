/**
 * Opaque keyset cursors for list endpoints: base64url of a small JSON object naming the listing it
 * belongs to and the exact position of the last item returned. Timestamps are carried as Postgres
 * wrote them, to the microsecond (a JS Date keeps milliseconds, and rows sharing the millisecond
 * of a page boundary were skipped), with the id breaking ties. Anything else (a cursor of the old
 * millisecond format, of another listing, or edited into something that is not a position) is a 400.
 */
import { z } from 'zod';
import { problems } from './problem.js';

const CURSOR_VERSION = 2;

/** A UTC timestamp with exactly six fractional digits, as db/certificates.ts renders `created_at`. */
export const MICROSECOND_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{6})Z$/;

const microsecondTimestamp = z
  .string()
  .regex(MICROSECOND_TIMESTAMP)
  .refine((value) => {
    const milliseconds = Date.parse(value);
    // Date.parse accepts 2027-02-30; the round trip does not.
    return Number.isFinite(milliseconds) && new Date(milliseconds).toISOString().slice(0, 19) === value.slice(0, 19);
  });

const rowId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

const positions = {
  /** `GET /v1/certificates`: newest first, on (created_at, id). */
  certificates: z.strictObject({ at: microsecondTimestamp, id: rowId }),
  /** `GET /v1/bulk-reissues`: newest first, on (created_at, id). */
  'bulk-operations': z.strictObject({ at: microsecondTimestamp, id: rowId }),
  /** `GET /v1/bulk-reissues/:id` items: by certificate id, unique within an operation. */
  'bulk-items': z.strictObject({ id: rowId }),
  /** `GET /v1/certificates/:id/audit-events`: newest first, by the log's sequence number. */
  'audit-events': z.strictObject({ seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }),
};

export type Listing = keyof typeof positions;
export type CursorPosition<L extends Listing> = z.output<(typeof positions)[L]>;

export function encodeCursor<L extends Listing>(listing: L, position: CursorPosition<L>): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, list: listing, ...position })).toString('base64url');
}

export function decodeCursor<L extends Listing>(listing: L, cursor: string): CursorPosition<L> {
  const envelope = z.looseObject({ v: z.literal(CURSOR_VERSION), list: z.literal(listing) });
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    const { v: _version, list: _listing, ...position } = envelope.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return positions[listing].parse(position) as CursorPosition<L>;
  } catch {
    throw problems.validation('cursor is not one this listing returned; pass the nextCursor of the previous page unchanged, or leave it out to start from the first page', [
      { field: 'cursor', message: 'not a valid cursor for this listing' },
    ]);
  }
}
