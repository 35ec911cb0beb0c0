/**
 * One process of the cluster topology (a Temporal server, a worker, an API...): started, polled with `ready` until
 * it answers, its output sent line by line to `log`, stopped with SIGTERM (SIGKILL after a grace period) or killed
 * with SIGKILL for outage tests. Start-up fails with the last lines of its output when it exits or is not ready in time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

export interface ServiceProcess {
  name: string;
  pid: number | undefined;
  /** Resolves when the process has exited, with how. */
  exited: Promise<string>;
  /** The last lines of its stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export interface StartServiceOptions {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves true once the process serves; polled every 250 ms. */
  ready: (output: () => string) => Promise<boolean>;
  readyTimeoutMs: number;
  log: (line: string) => void;
  stopGraceMs?: number;
}

const OUTPUT_TAIL_LINES = 60;

export async function startServiceProcess(opts: StartServiceOptions): Promise<ServiceProcess> {
  const child = spawn(opts.command, opts.args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const onLine = (line: string) => {
    opts.log(`[${opts.name}] ${line}`);
    tail.push(line);
    if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
  };
  readline.createInterface({ input: child.stdout }).on('line', onLine);
  readline.createInterface({ input: child.stderr }).on('line', onLine);
  let exitedHow: string | null = null;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve((exitedHow = `failed to spawn: ${error.message}`)));
    child.once('exit', (code, signal) => resolve((exitedHow = `exit ${code ?? signal}`)));
  });
  // No orphaned servers when this process exits without stopping them.
  const killOnParentExit = () => child.kill('SIGKILL');
  process.once('exit', killOnParentExit);
  const output = () => tail.join('\n');

  let stopping: Promise<void> | undefined;
  const terminate = (signal: NodeJS.Signals) =>
    (stopping ??= (async () => {
      process.removeListener('exit', killOnParentExit);
      await signalAndWait(child, exited, signal, opts.stopGraceMs ?? 10_000);
    })());

  const deadline = Date.now() + opts.readyTimeoutMs;
  for (;;) {
    if (exitedHow !== null) throw new Error(`${opts.name} exited during start-up (${exitedHow}):\n${output()}`);
    if (await opts.ready(output).catch(() => false)) break;
    if (Date.now() > deadline) {
      await terminate('SIGKILL');
      throw new Error(`${opts.name} not ready after ${opts.readyTimeoutMs} ms:\n${output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { name: opts.name, pid: child.pid, exited, output, stop: () => terminate('SIGTERM'), kill: () => terminate('SIGKILL') };
}

async function signalAndWait(child: ChildProcess, exited: Promise<unknown>, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
