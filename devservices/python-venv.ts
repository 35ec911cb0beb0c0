/**
 * Python command-line tools pip-installed once per version into a virtualenv cached outside the repo, in the
 * certflow cache dir: `<cacheDir>/<tool>-<version>/venv`, run through the wrapper script
 * `<cacheDir>/<tool>-<version>/<tool>`.
 *
 * The venv is built in a temp dir and renamed into place, like the Go tools (devservices/go-tool.ts). A venv's
 * console scripts name their interpreter by absolute path in their shebang, so after the rename they would
 * point into the gone temp dir: the wrapper calls the entry point with `venv/bin/python` found relative to itself.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { certflowCacheDir } from './go-tool.js';
import { acquireLock, isExecutableFile, runLogged, type Log } from './process-helpers.js';

export interface PythonTool {
  /** Name of the install dir (`<tool>-<version>`) and of the wrapper script. */
  tool: string;
  version: string;
  /** pip requirements, pinned (e.g. `certbot==5.8.0`). */
  requirements: string[];
  /** The console script's entry point, `module:function` (e.g. `certbot.main:main`). */
  entryPoint: string;
}

export interface PipInstallCachedOptions extends PythonTool {
  /** Interpreter the venv is created from (it needs the venv and ensurepip modules). */
  python: string;
  env?: NodeJS.ProcessEnv;
  log?: Log;
}

/** Where the wrapper of `tool` is (or will be): `<certflowCacheDir(env)>/<tool>-<version>/<tool>`. */
export function cachedPythonToolPath(tool: PythonTool, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(certflowCacheDir(env), `${tool.tool}-${tool.version}`, tool.tool);
}

/** The cached wrapper of the tool, after creating its venv and pip-installing it when it is not cached yet. */
export async function pipInstallCached(opts: PipInstallCachedOptions): Promise<string> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const wrapper = cachedPythonToolPath(opts, env);
  if (await isExecutableFile(wrapper)) return wrapper;

  const installDir = path.dirname(wrapper);
  const label = `${opts.tool} ${opts.version}`;
  await fs.mkdir(path.dirname(installDir), { recursive: true });
  const releaseLock = await acquireLock(`${installDir}.lock`, `install of ${label}`, log);
  try {
    if (await isExecutableFile(wrapper)) return wrapper; // installed by whoever held the lock before us

    const tempDir = `${installDir}.tmp-${process.pid}`;
    await fs.rm(tempDir, { recursive: true, force: true });
    log(`Installing ${label} with pip into ${installDir}`);
    const startedAt = Date.now();
    try {
      const venv = path.join(tempDir, 'venv');
      await runLogged(opts.python, ['-m', 'venv', venv], { env, log, tag: 'venv' });
      const pipArgs = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', ...opts.requirements];
      await runLogged(path.join(venv, 'bin', 'python'), pipArgs, { env, log, tag: 'pip' });
      await fs.writeFile(path.join(tempDir, opts.tool), wrapperScript(opts), { mode: 0o755 });
      await fs.rm(installDir, { recursive: true, force: true });
      await fs.rename(tempDir, installDir);
    } finally {
      await fs.rm(tempDir, { recursive: true, force: true });
    }
    log(`Installed ${label} in ${Math.round((Date.now() - startedAt) / 1000)} s: ${wrapper}`);
    return wrapper;
  } finally {
    await releaseLock();
  }
}

function wrapperScript(tool: PythonTool): string {
  const [module, func] = tool.entryPoint.split(':');
  const python = `import sys; sys.argv[0] = ${JSON.stringify(tool.tool)}; from ${module} import ${func}; sys.exit(${func}())`;
  return `#!/bin/sh\nexec "$(dirname "$0")/venv/bin/python" -c '${python}' "$@"\n`;
}
