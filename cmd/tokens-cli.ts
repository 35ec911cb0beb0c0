/**
 * `certflow tokens list | create | revoke`: a team's API tokens (a team admin or the platform
 * admin). A new token's secret is printed once; listings never show one.
 */
import { z } from 'zod';
import { ROLES } from '../core/types.js';
import { jsonApi } from './cli-api.js';
import { CliUsageError, CONNECTION_HELP, CONNECTION_OPTIONS, helpRequested, parseCommandArgs, printJson, resolveConnection, runCommand, type CliCommandSpec } from './cli-command.js';
import { EXIT_CODES_HELP, EXIT_OK } from './cli-exit.js';
import { formatFields, formatTable, shortTime, type Column } from './cli-table.js';

const tokenSchema = z.looseObject({
  id: z.string(),
  teamId: z.string().nullable(),
  principalId: z.string().nullable(),
  role: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type TokenView = z.infer<typeof tokenSchema>;
const createdSchema = z.looseObject({ id: z.string(), token: z.string(), teamId: z.string(), principalId: z.string(), role: z.string(), expiresAt: z.string().nullable() });

export const TOKEN_COLUMNS: Array<Column<TokenView>> = [
  { header: 'ID', value: (row) => row.id },
  { header: 'ROLE', value: (row) => row.role },
  { header: 'PRINCIPAL', value: (row) => row.principalId },
  { header: 'CREATED', value: (row) => shortTime(row.createdAt) },
  { header: 'EXPIRES', value: (row) => shortTime(row.expiresAt) },
  { header: 'LAST USED', value: (row) => shortTime(row.lastUsedAt) },
  { header: 'REVOKED', value: (row) => shortTime(row.revokedAt) },
];

const TOKENS_USAGE = `usage: certflow tokens <list|create|revoke> [options]
  list --team <teamId>                                  the team's tokens (never a secret)
  create --team <teamId> --role <role> [--expires-in <duration>] [--principal <prn_…>]
                                                        mints a token; its secret is printed once
                                                        roles: ${ROLES.join(', ')}
  revoke <tokenId>                                      stops the token at its next request
${CONNECTION_HELP}
${EXIT_CODES_HELP}`;

const TOKENS_OPTIONS = {
  ...CONNECTION_OPTIONS,
  team: { type: 'string' },
  role: { type: 'string' },
  'expires-in': { type: 'string' },
  principal: { type: 'string' },
} as const;

const TEAM_ID = /^team_[a-z0-9]+$/;

export const tokensCommand: CliCommandSpec = {
  name: 'tokens',
  summary: "list, create and revoke a team's API tokens",
  usage: TOKENS_USAGE,
  run: (args, io) =>
    runCommand(tokensCommand, args, io, async () => {
      const { values, positionals } = parseCommandArgs(args, TOKENS_OPTIONS);
      if (helpRequested(values, io, TOKENS_USAGE)) return EXIT_OK;
      const [action, ...rest] = positionals;
      const team = () => {
        if (!values.team) throw new CliUsageError(`tokens ${action} needs --team <teamId>`);
        if (!TEAM_ID.test(values.team)) throw new CliUsageError(`"${values.team}" is not a team id (team_…)`);
        return values.team;
      };
      if (action === 'list') {
        if (rest.length > 0) throw new CliUsageError('tokens list takes options only');
        const teamId = team();
        const { items } = await jsonApi(await resolveConnection(values, io.env), io.fetch)('GET', `/v1/teams/${teamId}/tokens`, z.object({ items: z.array(tokenSchema) }));
        if (values.json) printJson(io, { items });
        else io.out(items.length > 0 ? formatTable(TOKEN_COLUMNS, items) : 'no tokens');
        return EXIT_OK;
      }
      if (action === 'create') {
        if (rest.length > 0) throw new CliUsageError('tokens create takes options only');
        const teamId = team();
        if (!values.role || !(ROLES as readonly string[]).includes(values.role)) throw new CliUsageError(`tokens create needs --role, one of ${ROLES.join(', ')}`);
        if (values.principal !== undefined && !/^prn_[a-z0-9]+$/.test(values.principal)) throw new CliUsageError(`"${values.principal}" is not a principal id (prn_…)`);
        const expiresIn = values['expires-in'];
        const body = { role: values.role, ...(expiresIn ? { expiresIn: /^\d+$/.test(expiresIn) ? Number(expiresIn) : expiresIn } : {}), ...(values.principal ? { principalId: values.principal } : {}) };
        const created = await jsonApi(await resolveConnection(values, io.env), io.fetch)('POST', `/v1/teams/${teamId}/tokens`, createdSchema, body);
        if (values.json) printJson(io, created);
        else {
          io.out(formatFields([['id', created.id], ['role', created.role], ['principal', created.principalId], ['expires', created.expiresAt ?? 'never']]));
          io.out(`token (shown once): ${created.token}`);
        }
        return EXIT_OK;
      }
      if (action === 'revoke') {
        if (rest.length !== 1) throw new CliUsageError('tokens revoke takes one token id');
        const revoked = await jsonApi(await resolveConnection(values, io.env), io.fetch)('DELETE', `/v1/tokens/${encodeURIComponent(rest[0]!)}`, tokenSchema);
        if (values.json) printJson(io, revoked);
        else io.out(`${revoked.id}: revoked at ${revoked.revokedAt ?? '?'}`);
        return EXIT_OK;
      }
      throw new CliUsageError(action === undefined ? 'say list, create or revoke' : `unknown tokens command "${action}"; say list, create or revoke`);
    }),
};
