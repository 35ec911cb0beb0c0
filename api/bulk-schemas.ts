/**
 * Request bodies and query strings of `/v1/bulk-reissues`, as strict zod schemas. A selector must
 * narrow the selection with at least one criterion; selecting everything needs an explicit
 * `all: true`, so a forgotten filter never reissues the whole inventory.
 */
import { z } from 'zod';
import { KEY_ALGORITHMS, PROFILES } from '../core/types.js';

/**
 * Most ids one list of the selector may name. The API's 256 KiB body limit is the other bound:
 * 5,000 certificate ids (~27 bytes each in JSON) fit within it.
 */
export const MAX_SELECTOR_IDS = 5_000;
/** Most certificates shown by a dry run. */
export const DRY_RUN_SAMPLE_SIZE = 20;
export const MAX_ITEMS_PAGE = 500;

const dateTime = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time such as 2027-01-31T00:00:00Z' });

const idList = (what: string) =>
  z
    .array(z.string().min(1).max(100))
    .min(1, `${what}: name at least one, or leave the field out`)
    .max(MAX_SELECTOR_IDS, `${what}: at most ${MAX_SELECTOR_IDS} entries`);

/** Lower-case hex without separators, as serials are stored; `AB:CD:…` (openssl's notation) is accepted. */
const serial = z
  .string()
  .min(1)
  .max(80)
  .regex(/^[0-9A-Fa-f:]+$/, 'must be a hexadecimal serial number, e.g. 5f3a… or 5F:3A:…')
  .transform((value) => value.replaceAll(':', '').toLowerCase())
  .refine((value) => value.length > 0 && value.length <= 40, 'must be at most 20 octets (40 hex digits)');

/** `*` matches within one DNS label, `**` across labels (core/bulk.ts sanPatternToRegex). */
export const sanPatternSchema = z
  .string()
  .min(1)
  .max(253)
  .transform((value) => value.toLowerCase())
  .refine((value) => /^[a-z0-9.*-]+$/.test(value), {
    message: 'may contain only letters, digits, ".", "-" and "*" ("*" matches within one DNS label, "**" across labels)',
  });

const CRITERIA = ['issuers', 'teams', 'sanPattern', 'certificateIds', 'serials', 'keyAlgorithms', 'profiles', 'expiresAfter', 'expiresBefore'] as const;

export const bulkSelectorSchema = z
  .strictObject({
    /** Issuer ids (`iss_…`). */
    issuers: idList('issuers').optional(),
    /** Team ids or names. */
    teams: idList('teams').optional(),
    sanPattern: sanPatternSchema.optional(),
    certificateIds: idList('certificateIds').optional(),
    serials: z.array(serial).min(1, 'serials: name at least one, or leave the field out').max(MAX_SELECTOR_IDS).optional(),
    keyAlgorithms: z.array(z.enum(KEY_ALGORITHMS)).min(1).max(KEY_ALGORITHMS.length).optional(),
    profiles: z.array(z.enum(PROFILES)).min(1).max(PROFILES.length).optional(),
    /** Current version's notAfter ≥ this. */
    expiresAfter: dateTime.optional(),
    /** Current version's notAfter < this. */
    expiresBefore: dateTime.optional(),
    /** Select every certificate visible to the token; may not be combined with criteria. */
    all: z.literal(true).optional(),
  })
  .superRefine((selector, ctx) => {
    const given = CRITERIA.filter((key) => selector[key] !== undefined);
    if (given.length === 0 && !selector.all) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `name at least one criterion (${CRITERIA.join(', ')}), or "all": true to select every certificate the token may see`,
      });
    }
    if (given.length > 0 && selector.all) {
      ctx.addIssue({ code: 'custom', path: ['all'], message: `"all": true selects everything; leave it out when narrowing by ${given.join(', ')}` });
    }
    if (selector.expiresAfter && selector.expiresBefore && new Date(selector.expiresAfter) >= new Date(selector.expiresBefore)) {
      ctx.addIssue({ code: 'custom', path: ['expiresBefore'], message: 'expiresBefore must be later than expiresAfter' });
    }
  });
export type BulkSelectorBody = z.output<typeof bulkSelectorSchema>;

export const createBulkReissueSchema = z.strictObject({
  selector: bulkSelectorSchema,
  reason: z.string().trim().min(1, 'reason: say why, for the audit log').max(500),
  dryRun: z.boolean().default(false),
  revokeSuperseded: z.boolean().default(false),
  maxConcurrent: z.number().int().min(1).max(1000).default(50),
  maxPerSecond: z.number().int().min(1).max(1000).default(50),
});
export type CreateBulkReissueBody = z.output<typeof createBulkReissueSchema>;

export const bulkItemsQuery = z.strictObject({
  /** The previous page's `nextCursor`, unchanged (api/cursor.ts). */
  cursor: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_ITEMS_PAGE).default(100),
});

export const bulkOperationsQuery = z.strictObject({
  /** The previous page's `nextCursor`, unchanged (api/cursor.ts). */
  cursor: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
