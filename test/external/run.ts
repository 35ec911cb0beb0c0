/** Runs an external checker; a non-zero exit is returned, not thrown. */
import { execFile } from 'node:child_process';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runTool(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: options.env, cwd: options.cwd }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(error); // could not start it at all (ENOENT, …)
        return;
      }
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}
