/** Bodies of `/v1/teams/:id/contacts` (zod). */
import { z } from 'zod';
import { NOTIFICATION_KINDS } from '../core/notifications.js';

const kinds = z.array(z.enum(NOTIFICATION_KINDS)).min(1).max(NOTIFICATION_KINDS.length).optional();

export const createContactSchema = z.discriminatedUnion('channel', [
  z.strictObject({
    channel: z.literal('webhook'),
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .max(2048)
      .refine((url) => !new URL(url).username && !new URL(url).password, 'must not carry credentials (the signature authenticates Certflow)'),
    /** `certflow`: the signed JSON event; `slack`: `{text}` for Slack-compatible incoming webhooks. */
    format: z.enum(['certflow', 'slack']).default('certflow'),
    /** The HMAC secret; absent: one is generated and answered once. */
    secret: z.string().min(16, 'at least 16 characters').max(256).optional(),
    kinds,
  }),
  z.strictObject({
    channel: z.literal('email'),
    address: z.email().max(254),
    kinds,
  }),
]);

export type CreateContactBody = z.output<typeof createContactSchema>;
