/**
 * The Temporal server, its SQL schema tool and the Temporal UI server, built from their Go modules with
 * `go install` and cached per version in the certflow cache dir (devservices/go-tool.ts). None of these modules
 * has replace directives, so `go install module@version` builds them as released.
 *
 * Runnable as a script: `tsx devservices/temporal-server-binaries.ts install` builds all three, printing paths.
 */
import { goInstallCached, type GoTool } from './go-tool.js';
import { isEntryPoint, type Log } from './process-helpers.js';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
/** The UI server the Temporal CLI v1.5.1 embeds next to server v1.29.1 (its go.mod), so the two are known to match. */
export const TEMPORAL_UI_SERVER_VERSION = 'v2.42.1';

export const TEMPORAL_SERVER: GoTool = {
  tool: 'temporal-server',
  label: 'Temporal server',
  module: 'go.temporal.io/server/cmd/server',
  version: TEMPORAL_SERVER_VERSION,
  ldflags: '-s -w',
};

export const TEMPORAL_SQL_TOOL: GoTool = {
  tool: 'temporal-sql-tool',
  label: 'Temporal SQL tool',
  module: 'go.temporal.io/server/cmd/tools/sql',
  version: TEMPORAL_SERVER_VERSION,
  ldflags: '-s -w',
};

export const TEMPORAL_UI_SERVER: GoTool = {
  tool: 'temporal-ui-server',
  label: 'Temporal UI server',
  module: 'github.com/temporalio/ui-server/v2/cmd/server',
  version: TEMPORAL_UI_SERVER_VERSION,
  ldflags: '-s -w',
};

export interface TemporalBinaries {
  server: string;
  sqlTool: string;
  uiServer: string;
}

/** Builds (once) and returns the three binaries; throws with an actionable message when Go is missing. */
export async function installTemporalBinaries(env: NodeJS.ProcessEnv = process.env, log: Log = () => {}): Promise<TemporalBinaries> {
  // One after the other: on 2 cores parallel Go builds only compete for the same CPUs (and module downloads).
  const server = await goInstallCached({ ...TEMPORAL_SERVER, env, log });
  const sqlTool = await goInstallCached({ ...TEMPORAL_SQL_TOOL, env, log });
  const uiServer = await goInstallCached({ ...TEMPORAL_UI_SERVER, env, log });
  if (!server || !sqlTool || !uiServer) {
    throw new Error(
      'The cluster topology needs the Temporal server, its SQL tool and the UI server, built from their Go modules, ' +
        'and there is no go on PATH to build them. Install Go 1.24 or newer (https://go.dev/dl/) and run again.',
    );
  }
  return { server, sqlTool, uiServer };
}

/**
 * The Temporal UI server alone (built once, like the others), for a test that follows a link into the real UI next
 * to the integration suite's dev server. Throws with an actionable message when Go is missing.
 */
export async function installTemporalUiServer(env: NodeJS.ProcessEnv = process.env, log: Log = () => {}): Promise<string> {
  const uiServer = await goInstallCached({ ...TEMPORAL_UI_SERVER, env, log });
  if (!uiServer) {
    throw new Error(
      `The Temporal UI server ${TEMPORAL_UI_SERVER_VERSION} is built from its Go module, and there is no go on PATH to build it. ` +
        'Install Go 1.24 or newer (https://go.dev/dl/) and run again.',
    );
  }
  return uiServer;
}

if (isEntryPoint(import.meta.url)) {
  installTemporalBinaries(process.env, (m) => process.stderr.write(`${m}\n`)).then(
    (binaries) => process.stdout.write(`${JSON.stringify(binaries, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
