/**
 * `certflow bulk-reissue | bulk-status | bulk-pause | bulk-resume | bulk-cancel`: preview a
 * selection, confirm, start a bulk reissue and follow it to its end (a live progress bar on a
 * terminal, a plain line every 2 s otherwise); steer an operation by id. Arguments: cmd/cli-args.ts;
 * what is printed: cmd/cli-progress.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { bulkApi, type BulkApi } from './cli-api.js';
import { NO_TOKEN, parseCli, USAGE, type CliCommand } from './cli-args.js';
import { CliAuthError, CliUsageError, printJson, runCommand, type CliCommandSpec, type CliIo } from './cli-command.js';
import { configPath, readStoredLogin } from './cli-config.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_STOPPED_WATCHING } from './cli-exit.js';
import { exitCodeFor, formatDryRun, formatProgressLine, formatStatus, formatSummary, liveState } from './cli-progress.js';

const TTY_REFRESH_MS = 1_000;
const LOG_REFRESH_MS = 2_000;

export interface BulkIo extends CliIo {
  /** Asks on the terminal; null when there is no terminal to ask on. */
  ask: ((question: string) => Promise<string>) | null;
  /** Writes without a newline (the live progress line on a terminal). */
  write: (text: string) => void;
  /** While watching: a signal Ctrl-C aborts (stop watching, leave the operation running); release() ends it. */
  catchInterrupt: () => { signal: AbortSignal; release: () => void };
}

/** The environment with the stored login filling in what CERTFLOW_API_URL and CERTFLOW_TOKEN leave out. */
async function envWithStoredLogin(env: Record<string, string | undefined>): Promise<Record<string, string | undefined>> {
  if (env['CERTFLOW_API_URL'] !== undefined && env['CERTFLOW_TOKEN'] !== undefined) return env;
  const stored = await readStoredLogin(configPath(env));
  return { ...env, CERTFLOW_API_URL: env['CERTFLOW_API_URL'] ?? stored?.apiUrl, CERTFLOW_TOKEN: env['CERTFLOW_TOKEN'] ?? stored?.token };
}

export function bulkCommand(name: 'bulk-reissue' | 'bulk-status' | 'bulk-pause' | 'bulk-resume' | 'bulk-cancel', io: BulkIo): CliCommandSpec {
  const spec: CliCommandSpec = {
    name,
    summary: name === 'bulk-reissue' ? 'preview, confirm, start a bulk reissue and follow its progress' : name === 'bulk-status' ? 'show a bulk operation once' : `${name.slice(5)} a bulk operation`,
    usage: USAGE,
    run: (args) =>
      runCommand(spec, args, io, async () => {
        if (args.includes('--help') || args.includes('-h')) {
          io.out(USAGE);
          return EXIT_OK;
        }
        const parsed = parseCli([name, ...args], await envWithStoredLogin(io.env));
        if (!parsed.ok) throw parsed.error === NO_TOKEN ? new CliAuthError(parsed.error) : new CliUsageError(parsed.error);
        const command = parsed.value;
        if (command.command === 'help') {
          io.out(USAGE);
          return EXIT_OK;
        }
        const api = bulkApi(command.connection, io.fetch);
        return runBulk(command, api, io);
      }),
  };
  return spec;
}

async function runBulk(command: Exclude<CliCommand, { command: 'help' }>, api: BulkApi, io: BulkIo): Promise<number> {
  switch (command.command) {
    case 'bulk-reissue':
      return bulkReissue(command, api, io);
    case 'bulk-status': {
      const operation = await api.status(command.id);
      if (command.json) printJson(io, operation);
      else io.out(formatStatus(operation, new Date()));
      return EXIT_OK;
    }
    case 'bulk-pause':
    case 'bulk-resume':
    case 'bulk-cancel': {
      const action = command.command.slice('bulk-'.length) as 'pause' | 'resume' | 'cancel';
      const progress = await api.steer(command.id, action);
      if (command.json) {
        printJson(io, progress);
        return EXIT_OK;
      }
      io.out(`${command.id}: ${progress.state}`);
      if (action === 'cancel') io.out('renewals already under way finish and are recorded; nothing new is started');
      return EXIT_OK;
    }
  }
}

async function bulkReissue(command: Extract<CliCommand, { command: 'bulk-reissue' }>, api: BulkApi, io: BulkIo): Promise<number> {
  // With --json, stdout holds the final operation only; what people read goes to stderr.
  const say = command.json ? io.err : io.out;
  const preview = await api.dryRun(command.request);
  say(formatDryRun(preview));
  if (preview.count === 0) {
    say('nothing to reissue; no operation started');
    if (command.json) printJson(io, { id: null, state: 'nothing-selected', counts: null, dryRun: preview });
    return EXIT_OK;
  }
  if (!command.yes) {
    if (!io.ask) {
      io.err('error: not starting without confirmation: no terminal to ask on; check the preview above and pass --yes to start');
      return EXIT_FAILURE;
    }
    const answer = await io.ask(`reissue ${preview.count} certificate${preview.count === 1 ? '' : 's'}${command.request.revokeSuperseded ? ' and revoke the versions they replace' : ''}? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) {
      say('not started');
      return EXIT_FAILURE;
    }
  }
  const started = await api.start(command.request);
  say(`started bulk operation ${started.id} (workflow ${started.workflowId})`);
  return watch(api, started.id, io, command.json === true);
}

/** Redraws one line on a terminal, prints a line every 2 s otherwise; Ctrl-C stops watching only. */
async function watch(api: BulkApi, id: string, io: BulkIo, json: boolean): Promise<number> {
  const tty = io.stdoutIsTTY === true && !json;
  const say = json ? io.err : io.out;
  const interrupt = io.catchInterrupt();
  try {
    return await follow(api, id, io, { tty, json, say, interrupted: interrupt.signal });
  } finally {
    interrupt.release();
  }
}

async function follow(api: BulkApi, id: string, io: BulkIo, how: { tty: boolean; json: boolean; say: (text: string) => void; interrupted: AbortSignal }): Promise<number> {
  const { tty, json, say, interrupted } = how;
  for (;;) {
    const operation = await api.status(id);
    const live = liveState(operation);
    const line = formatProgressLine(live, new Date(), tty ? (io.columns || 100) - 1 : 200);
    if (tty) io.write(`\r${line}\x1b[K`);
    else say(line);
    const code = exitCodeFor(live.state, live.counts);
    if (live.final && code !== null) {
      if (tty) io.write('\n');
      say(formatSummary(live));
      if (json) printJson(io, operation);
      return code;
    }
    try {
      await (io.sleep ?? ((ms, signal) => sleep(ms, undefined, { signal })))(tty ? TTY_REFRESH_MS : LOG_REFRESH_MS, interrupted);
    } catch {
      // Interrupted: fall through to the check below.
    }
    if (interrupted.aborted) {
      if (tty) io.write('\n');
      say(`stopped watching; bulk operation ${id} keeps running.`);
      say(`  watch it:  certflow bulk-status ${id}`);
      say(`  cancel it: certflow bulk-cancel ${id}`);
      return EXIT_STOPPED_WATCHING;
    }
  }
}
