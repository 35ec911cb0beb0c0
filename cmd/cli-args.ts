/**
 * Command-line parsing of the `certflow` CLI (node:util parseArgs): which command, with which
 * options, and where the API is. Pure: it reads only the arguments and the environment it is given,
 * so every case is a unit test.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

export interface Connection {
  apiUrl: string;
  token: string;
}

/** The request body of POST /v1/bulk-reissues, as far as the flags fill it (the API checks the rest). */
export interface BulkReissueRequest {
  selector: {
    issuers?: string[];
    teams?: string[];
    sanPattern?: string;
    certificateIds?: string[];
    serials?: string[];
    keyAlgorithms?: string[];
    profiles?: string[];
    expiresAfter?: string;
    expiresBefore?: string;
    all?: true;
  };
  reason: string;
  revokeSuperseded: boolean;
  maxConcurrent?: number;
  maxPerSecond?: number;
}

export type CliCommand =
  | { command: 'help' }
  | { command: 'bulk-reissue'; connection: Connection; request: BulkReissueRequest; yes: boolean; json?: boolean }
  | { command: 'bulk-status'; connection: Connection; id: string; json?: boolean }
  | { command: 'bulk-pause' | 'bulk-resume' | 'bulk-cancel'; connection: Connection; id: string; json?: boolean };

export type ParsedCli = { ok: true; value: CliCommand } | { ok: false; error: string };

export const USAGE = `usage: certflow <command> [options]

commands:
  bulk-reissue   preview a selection, confirm, start a bulk reissue and watch it
                 selector (at least one, or --all):
                   --issuer <id>  --team <id|name>  --san <pattern>  --certificate <id>
                   --serial <hex>  --key-algorithm <alg>  --profile <profile>
                   --expires-after <date-time>  --expires-before <date-time>  --all
                 (list flags may be repeated or take comma-separated values;
                  in --san, "*" matches within one DNS label, "**" across labels)
                 --reason <text>        required, recorded in the audit log
                 --revoke-superseded    revoke each replaced certificate once the new one is out
                 --max-concurrent <n>   renewals under way at once (API default 50)
                 --max-per-second <n>   renewals started per second (API default 50)
                 --yes                  do not ask for confirmation (needed without a terminal)
                 follows the operation to its end: a live progress bar on a terminal, a plain line
                 every 2 s otherwise (on stderr with --json, which prints the final operation)
  bulk-status <id>                      show a bulk operation once
  bulk-pause <id> | bulk-resume <id> | bulk-cancel <id>

connection (every command):
  --json            one JSON document on stdout (errors as problem JSON on stderr)
  --api-url <url>   or CERTFLOW_API_URL, else the stored login (default ${DEFAULT_API_URL})
  --token <token>   or CERTFLOW_TOKEN, else the stored login ("certflow login")

exit codes of bulk-reissue: 0 completed, 6 completed with failures, 7 cancelled, 1 the operation
  failed, 2 usage, 3 auth, 5 refused, 130 stopped watching (the operation keeps running)`;

const CONNECTION_OPTIONS = {
  'api-url': { type: 'string' },
  json: { type: 'boolean' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const BULK_REISSUE_OPTIONS = {
  ...CONNECTION_OPTIONS,
  issuer: { type: 'string', multiple: true },
  team: { type: 'string', multiple: true },
  san: { type: 'string' },
  certificate: { type: 'string', multiple: true },
  serial: { type: 'string', multiple: true },
  'key-algorithm': { type: 'string', multiple: true },
  profile: { type: 'string', multiple: true },
  'expires-after': { type: 'string' },
  'expires-before': { type: 'string' },
  all: { type: 'boolean' },
  reason: { type: 'string' },
  'revoke-superseded': { type: 'boolean' },
  'max-concurrent': { type: 'string' },
  'max-per-second': { type: 'string' },
  yes: { type: 'boolean', short: 'y' },
} as const satisfies ParseArgsConfig['options'];

const ID_COMMANDS = ['bulk-status', 'bulk-pause', 'bulk-resume', 'bulk-cancel'] as const;

class UsageError extends Error {}

/** The parse error of a command line that is fine but has no token to send (an auth error, exit 3). */
export const NO_TOKEN = 'no API token: run "certflow login", pass --token <token> or set CERTFLOW_TOKEN';

export function parseCli(argv: string[], env: Record<string, string | undefined>): ParsedCli {
  try {
    return { ok: true, value: parseCommand(argv, env) };
  } catch (error) {
    if (error instanceof UsageError) return { ok: false, error: error.message };
    // parseArgs reports unknown options, missing values and stray arguments with a TypeError.
    if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) return { ok: false, error: error.message };
    throw error;
  }
}

function parseCommand(argv: string[], env: Record<string, string | undefined>): CliCommand {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };

  if (command === 'bulk-reissue') {
    const { values, positionals } = parseArgs({ args: rest, options: BULK_REISSUE_OPTIONS, allowPositionals: true, strict: true });
    if (values.help) return { command: 'help' };
    if (positionals.length > 0) throw new UsageError(`bulk-reissue takes no arguments besides options; unexpected "${positionals.join(' ')}"`);
    if (values.reason === undefined || values.reason.trim() === '') throw new UsageError('bulk-reissue needs --reason <text>: say why, for the audit log');
    const selector: BulkReissueRequest['selector'] = {
      issuers: list(values.issuer),
      teams: list(values.team),
      sanPattern: values.san,
      certificateIds: list(values.certificate),
      serials: list(values.serial),
      keyAlgorithms: list(values['key-algorithm']),
      profiles: list(values.profile),
      expiresAfter: values['expires-after'],
      expiresBefore: values['expires-before'],
      all: values.all ? true : undefined,
    };
    const request: BulkReissueRequest = {
      selector: withoutUndefined(selector),
      reason: values.reason,
      revokeSuperseded: values['revoke-superseded'] ?? false,
      ...withoutUndefined({ maxConcurrent: positiveInteger('--max-concurrent', values['max-concurrent']), maxPerSecond: positiveInteger('--max-per-second', values['max-per-second']) }),
    };
    return { command, connection: connection(values, env), request, yes: values.yes ?? false, json: values.json };
  }

  if ((ID_COMMANDS as readonly string[]).includes(command)) {
    const { values, positionals } = parseArgs({ args: rest, options: CONNECTION_OPTIONS, allowPositionals: true, strict: true });
    if (values.help) return { command: 'help' };
    if (positionals.length !== 1) throw new UsageError(`usage: certflow ${command} <bulk operation id>`);
    const id = positionals[0]!;
    if (!/^blk_[a-z2-7]+$/.test(id)) throw new UsageError(`"${id}" is not a bulk operation id (blk_…)`);
    return { command: command as (typeof ID_COMMANDS)[number], connection: connection(values, env), id, json: values.json };
  }

  throw new UsageError(`unknown command "${command}"; run "certflow help"`);
}

function connection(values: { 'api-url'?: string; token?: string }, env: Record<string, string | undefined>): Connection {
  const apiUrl = values['api-url'] ?? env['CERTFLOW_API_URL'] ?? DEFAULT_API_URL;
  let parsed: URL;
  try {
    parsed = new URL(apiUrl);
  } catch {
    throw new UsageError(`the API URL "${apiUrl}" is not a URL (--api-url or CERTFLOW_API_URL)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`the API URL must be http:// or https://, not "${apiUrl}"`);
  const token = values.token ?? env['CERTFLOW_TOKEN'];
  if (!token) throw new UsageError(NO_TOKEN);
  return { apiUrl: apiUrl.replace(/\/+$/, ''), token };
}

/** Repeated flags and comma-separated values, trimmed, empty ones dropped; undefined when none. */
function list(values: string[] | undefined): string[] | undefined {
  if (!values) return undefined;
  const items = values.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
  return items.length > 0 ? items : undefined;
}

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new UsageError(`${flag} must be a positive whole number, not "${value}"`);
  return Number(value);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}
