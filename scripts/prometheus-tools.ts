/**
 * Ensures Prometheus and promtool exist (Debian package `prometheus`), installing it with apt-get when running
 * as root on a machine that has it; otherwise this fails with a message saying what to install.
 * `PROMETHEUS_PATH` / `PROMTOOL_PATH` override the Debian paths.
 *
 * Runnable as a script: `tsx scripts/prometheus-tools.ts` installs what is missing and prints the paths as JSON.
 */
import { ensureAptPackages, type Found } from '../devservices/apt-packages.js';
import { executableFromEnv, isEntryPoint, isExecutableFile, type Log } from '../devservices/process-helpers.js';

export interface PrometheusTools {
  prometheus: string;
  promtool: string;
}

const DEBIAN_TOOLS: Array<[keyof PrometheusTools, string, string]> = [
  ['prometheus', 'PROMETHEUS_PATH', '/usr/bin/prometheus'],
  ['promtool', 'PROMTOOL_PATH', '/usr/bin/promtool'],
];

export async function ensurePrometheusTools(log: Log, env: NodeJS.ProcessEnv = process.env): Promise<PrometheusTools> {
  return await ensureAptPackages({
    packages: ['prometheus'],
    what: 'Prometheus and promtool',
    find: () => findTools(env),
    // The lock of the other Debian test tools: one apt-get at a time.
    lockName: 'apt-test-tools.lock',
    env,
    log,
  });
}

async function findTools(env: NodeJS.ProcessEnv): Promise<Found<PrometheusTools>> {
  const tools: Partial<PrometheusTools> = {};
  const missing: string[] = [];
  for (const [key, variable, debianPath] of DEBIAN_TOOLS) {
    const found = (await executableFromEnv(env, variable)) ?? ((await isExecutableFile(debianPath)) ? debianPath : null);
    if (found) tools[key] = found;
    else missing.push(`${debianPath} (prometheus)`);
  }
  return missing.length > 0 ? { missing: missing.join(', ') } : { found: tools as PrometheusTools };
}

if (isEntryPoint(import.meta.url)) {
  ensurePrometheusTools((message) => process.stderr.write(`${message}\n`)).then(
    (tools) => process.stdout.write(`${JSON.stringify(tools, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
