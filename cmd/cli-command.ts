/**
 * What every API command of the `certflow` CLI shares: the io it runs with, where the API is and
 * which token to send (flag, environment, then the stored login), argument errors, and one way of
 * ending: human text on stdout by default, one JSON document with `--json`, errors on stderr (problem
 * JSON with `--json`) and the exit code of cmd/cli-exit.ts.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiError, type Problem } from './cli-api.js';
import { DEFAULT_API_URL, type Connection } from './cli-args.js';
import { configPath, readStoredLogin } from './cli-config.js';
import { refreshedIfExpired } from './oidc-refresh.js';
import { EXIT_AUTH, EXIT_FAILURE, EXIT_USAGE, exitCodeForProblem } from './cli-exit.js';
import { formatProblem } from './cli-progress.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
  /** stdout is a terminal: live progress redraws one line. */
  stdoutIsTTY?: boolean;
  columns?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** One command: `run` gets the arguments after its name. */
export interface CliCommandSpec {
  name: string;
  summary: string;
  usage: string;
  run: (args: string[], io: CliIo) => Promise<number>;
}

/** Bad arguments: nothing is sent. */
export class CliUsageError extends Error {}
/** No token to send: nothing is sent. */
export class CliAuthError extends Error {}
/** A failure outside the API with its own exit code and problem type (e.g. the OIDC device flow). */
export class CliFailure extends Error {
  constructor(
    readonly exitCode: number,
    readonly type: string,
    readonly title: string,
    detail: string,
  ) {
    super(detail);
  }
}

export const CONNECTION_OPTIONS = {
  'api-url': { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const CONNECTION_HELP = `  --json            one JSON document on stdout; errors as problem JSON on stderr
  --api-url <url>   else CERTFLOW_API_URL, else the stored login, else ${DEFAULT_API_URL}
  --token <token>   else CERTFLOW_TOKEN, else the stored login ("certflow login")`;

/** parseArgs, strict, with parse failures as usage errors. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    if (error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')) throw new CliUsageError(error.message);
    throw error;
  }
}

/** The API and token: flags first, then CERTFLOW_API_URL / CERTFLOW_TOKEN, then the stored login. */
export async function resolveConnection(values: { 'api-url'?: string; token?: string }, env: Record<string, string | undefined>, fetchImpl: typeof fetch = fetch): Promise<Connection> {
  const flagOrEnvUrl = values['api-url'] ?? env['CERTFLOW_API_URL'];
  const flagOrEnvToken = values.token ?? env['CERTFLOW_TOKEN'];
  const stored = flagOrEnvUrl !== undefined && flagOrEnvToken !== undefined ? null : await readStoredLogin(configPath(env));
  const apiUrl = checkedApiUrl(flagOrEnvUrl ?? stored?.apiUrl ?? DEFAULT_API_URL);
  const token = flagOrEnvToken ?? (stored ? (await refreshedIfExpired(stored, configPath(env), fetchImpl)).token : undefined);
  if (!token) throw new CliAuthError('not logged in: run "certflow login --api-url <url> --token <token>", or pass --token / set CERTFLOW_TOKEN');
  return { apiUrl, token };
}

export function checkedApiUrl(apiUrl: string): string {
  let parsed: URL;
  try {
    parsed = new URL(apiUrl);
  } catch {
    throw new CliUsageError(`the API URL "${apiUrl}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new CliUsageError(`the API URL must be http:// or https://, not "${apiUrl}"`);
  return apiUrl.replace(/\/+$/, '');
}

export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/**
 * Runs a command body and ends it: usage and auth errors before anything was sent, API error
 * answers with the exit code their status means. `--json` anywhere in the arguments makes errors
 * problem JSON (decided before parsing, so a parse error is JSON too).
 */
export async function runCommand(spec: Pick<CliCommandSpec, 'name' | 'usage'>, args: string[], io: CliIo, body: () => Promise<number>): Promise<number> {
  const json = args.includes('--json');
  try {
    return await body();
  } catch (error) {
    if (error instanceof CliUsageError) {
      report(io, json, { type: '/problems/cli-usage', title: 'Bad arguments', detail: error.message, exitCode: EXIT_USAGE }, `error: ${error.message}\n\n${spec.usage}`);
      return EXIT_USAGE;
    }
    if (error instanceof CliFailure) {
      report(io, json, { type: error.type, title: error.title, detail: error.message, exitCode: error.exitCode }, `error: ${error.message}`);
      return error.exitCode;
    }
    if (error instanceof CliAuthError) {
      report(io, json, { type: '/problems/cli-not-logged-in', title: 'Not logged in', detail: error.message, exitCode: EXIT_AUTH }, `error: ${error.message}`);
      return EXIT_AUTH;
    }
    if (error instanceof ApiError) {
      const code = error.status === 0 ? EXIT_FAILURE : exitCodeForProblem(error.status, error.problem);
      const problem: Problem & { exitCode: number } =
        error.status === 0 ? { type: '/problems/cli-api-unreachable', title: 'API unreachable', ...error.problem, exitCode: code } : { status: error.status, ...error.problem, exitCode: code };
      report(io, json, problem, formatProblem(error.status, error.problem));
      return code;
    }
    throw error;
  }
}

function report(io: CliIo, json: boolean, problem: Record<string, unknown>, text: string): void {
  io.err(json ? JSON.stringify(problem) : text);
}

/** `--help` of a command: its usage on stdout. */
export function helpRequested(values: { help?: boolean }, io: CliIo, usage: string): boolean {
  if (values.help) io.out(usage);
  return values.help === true;
}
