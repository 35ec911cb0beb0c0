/**
 * Resolves the Temporal CLI binary used to run the local dev server (`temporal server start-dev`).
 *
 * Order: $TEMPORAL_CLI_PATH, a `temporal` on PATH, a cached build in the certflow cache dir, a fresh
 * `go install` into that cache dir. Returns null when none of these is possible; callers then fall back to the
 * binary the Temporal SDK downloads itself.
 *
 * Runnable as a script: `tsx devservices/temporal-cli.ts install` builds/resolves the CLI and prints its path.
 */
import { certflowCacheDir, cachedGoToolPath, goInstallCached, type GoTool } from './go-tool.js';
import { executableFromEnv, findOnPath, isEntryPoint } from './process-helpers.js';

export { certflowCacheDir };

export const TEMPORAL_CLI_VERSION = 'v1.5.1';

const TEMPORAL_CLI: GoTool = {
  tool: 'temporal-cli',
  label: 'Temporal CLI',
  module: 'github.com/temporalio/cli/cmd/temporal',
  version: TEMPORAL_CLI_VERSION,
  // Same ldflags as the upstream release build: strip symbols (~250 MB -> ~210 MB) and stamp the version, which
  // `go install` would otherwise report as 0.0.0-DEV.
  ldflags: `-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION.slice(1)}`,
};

export interface ResolveTemporalCliOptions {
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
}

export async function resolveTemporalCli(opts: ResolveTemporalCliOptions = {}): Promise<string | null> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});

  const explicit = await executableFromEnv(env, 'TEMPORAL_CLI_PATH');
  if (explicit) return explicit;

  const onPath = await findOnPath('temporal', env);
  if (onPath) return onPath;

  const cli = await goInstallCached({ ...TEMPORAL_CLI, env, log });
  if (!cli) {
    const binary = cachedGoToolPath(TEMPORAL_CLI, env);
    log(`Temporal CLI not found (no TEMPORAL_CLI_PATH, no temporal on PATH, no ${binary}) and no go to build it`);
  }
  return cli;
}

async function main(args: string[]): Promise<number> {
  if (args.length !== 1 || args[0] !== 'install') {
    process.stderr.write('usage: tsx devservices/temporal-cli.ts install\n');
    return 2;
  }
  const cli = await resolveTemporalCli({ log: (message) => process.stderr.write(`${message}\n`) });
  if (!cli) {
    process.stderr.write(
      'No Temporal CLI and no Go toolchain found. Install Go (or set TEMPORAL_CLI_PATH); ' +
        'otherwise the dev server falls back to the binary downloaded by @temporalio/testing.\n',
    );
    return 1;
  }
  process.stdout.write(`${cli}\n`);
  return 0;
}

if (isEntryPoint(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
