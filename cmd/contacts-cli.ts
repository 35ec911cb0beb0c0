/**
 * `certflow contacts` — a team's notification contacts through the API (team admin or platform admin):
 * add a webhook or an email address, list, remove. `runContactsCli(args, io)` takes the arguments
 * after `contacts`, so cmd/cli.ts wires it and tests drive it.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ApiError, jsonApi } from './cli-api.js';
import { DEFAULT_API_URL } from './cli-args.js';
import { formatProblem } from './cli-progress.js';

export interface ContactsIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

export const CONTACTS_USAGE = `usage: certflow contacts <add|list|remove> --team <teamId> [options]
  add --webhook <url> [--format certflow|slack] [--secret <text>]   a signed webhook (no --secret: one is made and shown once)
  add --email <address>                                            an email address (SMTP relay of the workers)
      [--kind <kind>]...   only these kinds (approval_requested, approval_escalated, rollout_failed,
                           renewal_failing, expiry_warning, lifecycle_not_running, bulk_finished)
  list                     the team's contacts (never a secret)
  remove <contactId>
  --json                   print the API's JSON
  --api-url <url>          or CERTFLOW_API_URL (default ${DEFAULT_API_URL})
  --token <token>          or CERTFLOW_TOKEN (a team admin or platform admin token)
exit codes: 0 done, 1 error or refused`;

const contactSchema = z.object({
  id: z.string(),
  channel: z.enum(['webhook', 'email']),
  url: z.string().optional(),
  format: z.string().optional(),
  address: z.string().optional(),
  kinds: z.array(z.string()).nullable(),
  secret: z.string().optional(),
});
type Contact = z.infer<typeof contactSchema>;

export async function runContactsCli(args: string[], io: ContactsIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        team: { type: 'string' },
        webhook: { type: 'string' },
        email: { type: 'string' },
        format: { type: 'string' },
        secret: { type: 'string' },
        kind: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        'api-url': { type: 'string' },
        token: { type: 'string' },
      },
    });
  } catch (error) {
    io.err(`error: ${(error as Error).message}\n\n${CONTACTS_USAGE}`);
    return 1;
  }
  const { values, positionals } = parsed;
  const [action, ...rest] = positionals;
  const token = values.token ?? io.env.CERTFLOW_TOKEN;
  const usage = (message: string) => {
    io.err(`error: ${message}\n\n${CONTACTS_USAGE}`);
    return 1;
  };
  if (!action || !['add', 'list', 'remove'].includes(action)) return usage('say add, list or remove');
  if (!values.team) return usage('--team <teamId> is required');
  if (!token) return usage('no token: pass --token or set CERTFLOW_TOKEN');
  const call = jsonApi({ apiUrl: (values['api-url'] ?? io.env.CERTFLOW_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, ''), token }, io.fetch ?? fetch);
  const base = `/v1/teams/${encodeURIComponent(values.team)}/contacts`;
  try {
    if (action === 'list') {
      const { items } = await call('GET', base, z.object({ items: z.array(contactSchema) }));
      if (values.json) io.out(JSON.stringify(items, null, 2));
      else for (const item of items) io.out(describe(item));
      return 0;
    }
    if (action === 'remove') {
      if (rest.length !== 1) return usage('remove takes one contact id');
      const removed = await call('DELETE', `${base}/${encodeURIComponent(rest[0]!)}`, contactSchema);
      io.out(values.json ? JSON.stringify(removed, null, 2) : `removed ${describe(removed)}`);
      return 0;
    }
    if (Boolean(values.webhook) === Boolean(values.email)) return usage('add needs exactly one of --webhook <url> or --email <address>');
    const body = values.webhook
      ? { channel: 'webhook', url: values.webhook, ...(values.format ? { format: values.format } : {}), ...(values.secret ? { secret: values.secret } : {}), ...(values.kind ? { kinds: values.kind } : {}) }
      : { channel: 'email', address: values.email, ...(values.kind ? { kinds: values.kind } : {}) };
    const added = await call('POST', base, contactSchema, body);
    if (values.json) io.out(JSON.stringify(added, null, 2));
    else {
      io.out(`added ${describe(added)}`);
      if (added.secret) io.out(`signing secret (shown once, give it to the receiver): ${added.secret}`);
    }
    return 0;
  } catch (error) {
    if (error instanceof ApiError) {
      io.err(formatProblem(error.status, error.problem));
      return 1;
    }
    throw error;
  }
}

function describe(contact: Contact): string {
  const target = contact.channel === 'webhook' ? `webhook ${contact.url} (${contact.format ?? 'certflow'})` : `email ${contact.address}`;
  return `${contact.id}  ${target}  kinds: ${contact.kinds?.join(',') ?? 'all'}`;
}
