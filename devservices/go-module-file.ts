/**
 * A file shipped in a Go module (a config template, a JSON schema), fetched once with `go mod download` through
 * the Go module proxy and cached in the certflow cache dir: `<cacheDir>/go-files/<module>@<version>/<file>`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { certflowCacheDir } from './go-tool.js';
import { findOnPath, isFile } from './process-helpers.js';

const run = promisify(execFile);

export async function goModuleFile(module: string, version: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const cached = path.join(certflowCacheDir(env), 'go-files', `${module.replaceAll('/', '_')}@${version}`, file);
  if (await isFile(cached)) return cached;
  const go = await findOnPath('go', env);
  if (!go) throw new Error(`${file} of ${module}@${version} is not cached (${cached}) and there is no go on PATH to download it`);
  // Run outside any module (cwd = the cache dir) so that a go.mod around the repo does not matter.
  await fs.mkdir(path.dirname(cached), { recursive: true });
  const { stdout } = await run(go, ['mod', 'download', '-json', `${module}@${version}`], { env: { ...env, GOWORK: 'off', GOFLAGS: '-mod=mod' }, cwd: path.dirname(cached), maxBuffer: 1 << 20 });
  const dir = (JSON.parse(stdout) as { Dir?: string; Error?: string }).Dir;
  if (!dir) throw new Error(`go mod download ${module}@${version} gave no directory: ${stdout}`);
  const temp = `${cached}.tmp-${process.pid}`;
  await fs.copyFile(path.join(dir, file), temp);
  await fs.chmod(temp, 0o644);
  await fs.rename(temp, cached);
  return cached;
}
