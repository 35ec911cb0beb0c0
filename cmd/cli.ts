/**
 * `certflow` — the operator CLI (`npm run cli -- <command>`). Bulk reissue: preview the selection,
 * confirm, start, and watch a live progress line until the operation ends; status, pause, resume
 * and cancel of an operation by id; the issuer compromise drill (`issuer-compromise <issuerId>`). Talks to the HTTP API only (CERTFLOW_API_URL, CERTFLOW_TOKEN),
 * except `token rotate-bootstrap`, the break-glass rotation of the bootstrap token on the database (DATABASE_URL),
 * and `kek` (cmd/kek-cli.ts), which runs where the worker's KEK is and talks to  Postgres,
 * and `audit verify`, which reads the audit log from Postgres (cmd/audit-cli.ts).
 */
import { createInterface } from 'node:readline/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, bulkApi, type BulkApi } from './cli-api.js';
import { parseCli, USAGE, type CliCommand } from './cli-args.js';
import { ISSUER_COMPROMISE_USAGE, runIssuerCompromise } from './issuer-compromise-cli.js';
import { runTokenCli, TOKEN_USAGE } from './bootstrap-token-cli.js';
import { KEK_USAGE, runKekCommand } from './kek-cli.js';
import { AUDIT_USAGE, runAuditCli } from './audit-cli.js';
import { CONTACTS_USAGE, runContactsCli } from './contacts-cli.js';
import { INVENTORY_USAGE, runInventoryCli } from './inventory-cli.js';
import {
  EXIT_ERROR,
  EXIT_STOPPED_WATCHING,
  exitCodeFor,
  formatDryRun,
  formatProblem,
  formatProgressLine,
  formatStatus,
  formatSummary,
  liveState,
} from './cli-progress.js';

const TTY_REFRESH_MS = 1_000;
const LOG_REFRESH_MS = 2_000;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'token') {
    return runTokenCli(argv.slice(1), { out: (line) => console.log(line), err: (line) => console.error(line), env: process.env });
  }
  if (argv[0] === 'issuer-compromise') {
    return runIssuerCompromise(argv.slice(1), {
      out: (line) => console.log(line),
      err: (line) => console.error(line),
      env: process.env,
      ask: process.stdin.isTTY && process.stdout.isTTY ? ask : null,
    });
  }
  if (argv[0] === 'kek') return runKekCommand(argv.slice(1), { out: (line) => console.log(line), err: (line) => console.error(line), env: process.env });
  if (argv[0] === 'import' || argv[0] === 'scan') return runInventoryCli(argv, { out: (line) => console.log(line), err: (line) => console.error(line), env: process.env });
  if (argv[0] === 'contacts') return runContactsCli(argv.slice(1), { out: (line) => console.log(line), err: (line) => console.error(line), env: process.env });
  if (argv[0] === 'audit') {
    return runAuditCli(argv.slice(1), { out: (line) => console.log(line), err: (line) => console.error(line), env: process.env });
  }
  const parsed = parseCli(argv, process.env);
  if (!parsed.ok) {
    console.error(`error: ${parsed.error}\n\n${USAGE}\n\n${ISSUER_COMPROMISE_USAGE}\n\n${TOKEN_USAGE}\n\n${KEK_USAGE}\n\n${AUDIT_USAGE}\n\n${CONTACTS_USAGE}\n\n${INVENTORY_USAGE}`);
    return EXIT_ERROR;
  }
  const command = parsed.value;
  if (command.command === 'help') {
    console.log(`${USAGE}\n\n${ISSUER_COMPROMISE_USAGE}\n\n${TOKEN_USAGE}\n\n${KEK_USAGE}\n\n${AUDIT_USAGE}\n\n${CONTACTS_USAGE}\n\n${INVENTORY_USAGE}`);
    return 0;
  }
  const api = bulkApi(command.connection);
  try {
    return await run(command, api);
  } catch (error) {
    if (error instanceof ApiError) {
      console.error(formatProblem(error.status, error.problem));
      return EXIT_ERROR;
    }
    throw error;
  }
}

async function run(command: Exclude<CliCommand, { command: 'help' }>, api: BulkApi): Promise<number> {
  switch (command.command) {
    case 'bulk-reissue':
      return bulkReissue(command, api);
    case 'bulk-status': {
      const operation = await api.status(command.id);
      console.log(formatStatus(operation, new Date()));
      return 0;
    }
    case 'bulk-pause':
    case 'bulk-resume':
    case 'bulk-cancel': {
      const action = command.command.slice('bulk-'.length) as 'pause' | 'resume' | 'cancel';
      const progress = await api.steer(command.id, action);
      console.log(`${command.id}: ${progress.state}`);
      if (action === 'cancel') console.log('renewals already under way finish and are recorded; nothing new is started');
      return 0;
    }
  }
}

async function bulkReissue(command: Extract<CliCommand, { command: 'bulk-reissue' }>, api: BulkApi): Promise<number> {
  const preview = await api.dryRun(command.request);
  console.log(formatDryRun(preview));
  if (preview.count === 0) {
    console.log('nothing to reissue; no operation started');
    return 0;
  }
  if (!command.yes) {
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      console.error('error: not starting without confirmation: no terminal to ask on; check the preview above and pass --yes to start');
      return EXIT_ERROR;
    }
    const answer = await ask(`reissue ${preview.count} certificate${preview.count === 1 ? '' : 's'}${command.request.revokeSuperseded ? ' and revoke the versions they replace' : ''}? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) {
      console.log('not started');
      return EXIT_ERROR;
    }
  }
  const started = await api.start(command.request);
  console.log(`started bulk operation ${started.id} (workflow ${started.workflowId})`);
  return watch(api, started.id);
}

async function ask(question: string): Promise<string> {
  const readline = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await readline.question(question);
  } finally {
    readline.close();
  }
}

/** Redraws one line on a terminal, prints a line every 2 s otherwise; Ctrl-C stops watching only. */
async function watch(api: BulkApi, id: string): Promise<number> {
  const tty = process.stdout.isTTY === true;
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  process.once('SIGINT', onInterrupt);
  try {
    for (;;) {
      const live = liveState(await api.status(id));
      const line = formatProgressLine(live, new Date(), tty ? (process.stdout.columns || 100) - 1 : 200);
      if (tty) process.stdout.write(`\r${line}\x1b[K`);
      else console.log(line);
      const code = exitCodeFor(live.state, live.counts);
      if (live.final && code !== null) {
        if (tty) process.stdout.write('\n');
        console.log(formatSummary(live));
        return code;
      }
      try {
        await sleep(tty ? TTY_REFRESH_MS : LOG_REFRESH_MS, undefined, { signal: stop.signal });
      } catch {
        // Interrupted: fall through to the check below.
      }
      if (stop.signal.aborted) {
        if (tty) process.stdout.write('\n');
        console.log(`stopped watching; bulk operation ${id} keeps running.`);
        console.log(`  watch it:  certflow bulk-status ${id}`);
        console.log(`  cancel it: certflow bulk-cancel ${id}`);
        return EXIT_STOPPED_WATCHING;
      }
    }
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`certflow: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = EXIT_ERROR;
  },
);
