/**
 * A server binary run as a child process for a test (pebble, pebble-challtestsrv): started, polled with
 * `ready` until it answers, stopped with SIGTERM (SIGKILL after a grace period). Start-up fails with the
 * last lines of its output when it exits or does not get ready in time.
 */
import { spawn } from 'node:child_process';
import readline from 'node:readline';

export interface ServerProcess {
  pid: number | undefined;
  /** The last lines of its stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

export interface StartServerProcessOptions {
  /** In messages. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves true once the server answers; called every 100 ms until then. */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

const OUTPUT_TAIL_LINES = 60;
const STOP_GRACE_MS = 5_000;

export async function startServerProcess(opts: StartServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(opts.command, opts.args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const onLine = (line: string) => {
    opts.log?.(`[${opts.name}] ${line}`);
    tail.push(line);
    if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
  };
  readline.createInterface({ input: child.stdout }).on('line', onLine);
  readline.createInterface({ input: child.stderr }).on('line', onLine);
  let exitedHow: string | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      exitedHow = `failed to spawn: ${error.message}`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exitedHow = `exit ${code ?? signal}`;
      resolve();
    });
  });
  // Don't leave an orphaned server behind if the test process exits without calling stop().
  const killOnParentExit = () => child.kill('SIGKILL');
  process.once('exit', killOnParentExit);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.removeListener('exit', killOnParentExit);
      if (exitedHow !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    })());
  const output = () => tail.join('\n');

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  for (;;) {
    if (exitedHow !== null) throw new Error(`${opts.name} exited during start-up (${exitedHow}):\n${output()}`);
    if (await opts.ready().catch(() => false)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${opts.name} not ready after ${opts.readyTimeoutMs ?? 20_000} ms:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { pid: child.pid, output, stop };
}
