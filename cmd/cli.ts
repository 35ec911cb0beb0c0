#!/usr/bin/env tsx
/**
 * `certflow` — the CLI (`npm run cli -- <command>`). One table of commands, each with its own file:
 * certificates (request, list, show, renew, revoke, approve, reject: cmd/certificates-cli.ts),
 * bulk reissue and its steering (cmd/bulk-cli.ts), issuers, tokens, login, contacts, the issuer
 * compromise drill; they talk to the HTTP API only (flags, CERTFLOW_API_URL / CERTFLOW_TOKEN, or the
 * login stored by `certflow login`). Three run where the platform's secrets are and talk to Postgres:
 * `token rotate-bootstrap` (break-glass), `kek` and `audit verify`. Exit codes: cmd/cli-exit.ts.
 * A new command is one more entry in `commands()`.
 */
import { createInterface } from 'node:readline/promises';
import { bulkCommand, type BulkIo } from './bulk-cli.js';
import { approveCommand, listCommand, rejectCommand, renewCommand, requestCommand, revokeCommand, showCommand } from './certificates-cli.js';
import { CliUsageError, runCommand, type CliCommandSpec, type CliIo } from './cli-command.js';
import { EXIT_CODES_HELP, EXIT_OK } from './cli-exit.js';
import { issuersCommand } from './issuers-cli.js';
import { loginCommand } from './login-cli.js';
import { tokensCommand } from './tokens-cli.js';

function commands(io: BulkIo): CliCommandSpec[] {
  const plain = { out: io.out, err: io.err, env: io.env };
  return [
    loginCommand,
    requestCommand,
    listCommand,
    showCommand,
    renewCommand,
    revokeCommand,
    approveCommand,
    rejectCommand,
    bulkCommand('bulk-reissue', io),
    bulkCommand('bulk-status', io),
    bulkCommand('bulk-pause', io),
    bulkCommand('bulk-resume', io),
    bulkCommand('bulk-cancel', io),
    issuersCommand,
    tokensCommand,
    // Loaded when run: the database-backed ones pull in drizzle and pg, which the API commands never need.
    {
      name: 'contacts',
      summary: "a team's notification contacts",
      usage: 'certflow contacts --help',
      run: async (args) => (await import('./contacts-cli.js')).runContactsCli(args, plain),
    },
    {
      name: 'import',
      summary: 'import PEM certificates into a team\'s inventory',
      usage: 'certflow import <files...> --team <id>',
      run: async (args) => (await import('./inventory-cli.js')).runInventoryCli(['import', ...args], plain),
    },
    {
      name: 'scan',
      summary: 'scan TLS endpoints into a team\'s inventory',
      usage: 'certflow scan --team <id> --targets-file <file> [--wait]',
      run: async (args) => (await import('./inventory-cli.js')).runInventoryCli(['scan', ...args], plain),
    },
    {
      name: 'issuer-compromise',
      summary: 'the issuer compromise drill: successor, reissue, revoke, CRLs, report',
      usage: 'certflow issuer-compromise --help',
      run: async (args) => (await import('./issuer-compromise-cli.js')).runIssuerCompromise(args, { ...plain, ask: io.ask }),
    },
    {
      name: 'audit',
      summary: 'audit verify: check the audit log on Postgres (DATABASE_URL)',
      usage: 'certflow audit --help',
      run: async (args) => (await import('./audit-cli.js')).runAuditCli(args, plain),
    },
    {
      name: 'reconcile',
      summary: 'after a Postgres restore: repair every difference with the workflows (worker config)',
      usage: 'certflow reconcile --help',
      run: async (args) => (await import('./reconcile-cli.js')).runReconcileCli(args, plain),
    },
    {
      name: 'token',
      summary: 'token rotate-bootstrap: break-glass, on Postgres (DATABASE_URL)',
      usage: 'certflow token rotate-bootstrap (needs DATABASE_URL)',
      run: async (args) => (await import('./bootstrap-token-cli.js')).runTokenCli(args, { ...plain, env: process.env }),
    },
    {
      name: 'kek',
      summary: 'key-encryption key rotation, on Postgres (DATABASE_URL)',
      usage: 'certflow kek --help',
      run: async (args) => (await import('./kek-cli.js')).runKekCommand(args, plain),
    },
  ];
}

function overview(specs: CliCommandSpec[]): string {
  const width = Math.max(...specs.map((spec) => spec.name.length));
  return [
    'usage: certflow <command> [arguments] [options]      certflow <command> --help',
    '',
    'commands:',
    ...specs.map((spec) => `  ${spec.name.padEnd(width)}  ${spec.summary}`),
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}

async function main(argv: string[], io: BulkIo): Promise<number> {
  const specs = commands(io);
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? specs.find((spec) => spec.name === args[0]) : undefined;
    io.out(topic ? topic.usage : overview(specs));
    return EXIT_OK;
  }
  const spec = specs.find((candidate) => candidate.name === name);
  if (!spec) {
    return runCommand({ name, usage: overview(specs) }, argv, io, () => {
      throw new CliUsageError(`unknown command "${name}"`);
    });
  }
  return spec.run(args, io);
}

async function ask(question: string): Promise<string> {
  const readline = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await readline.question(question);
  } finally {
    readline.close();
  }
}

/** Ctrl-C while a bulk reissue is followed stops the following; at any other time it ends the CLI as usual. */
function catchInterrupt() {
  const interrupted = new AbortController();
  const onInterrupt = () => interrupted.abort();
  process.once('SIGINT', onInterrupt);
  return { signal: interrupted.signal, release: () => process.off('SIGINT', onInterrupt) };
}

const io: BulkIo & CliIo = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  write: (text) => process.stdout.write(text),
  env: process.env,
  stdoutIsTTY: process.stdout.isTTY === true,
  columns: process.stdout.columns,
  ask: process.stdin.isTTY && process.stdout.isTTY ? ask : null,
  catchInterrupt,
};

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`certflow: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
