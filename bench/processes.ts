/**
 * What the end-to-end benchmarks (bulk.ts, acme.ts) measure processes with: CPU seconds and RSS from
 * /proc (a process, a process tree such as Postgres' postmaster and its backends, or per thread), the
 * machine's CPU, and the real worker started as a child process.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const CLOCK_TICKS = 100;

/** User + system CPU of a process, including its reaped children. */
export async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  // utime, stime, cutime, cstime are fields 14–17 of stat; here shifted by the two before ") ".
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** The children of a process (Postgres: the postmaster's backends). */
export async function childPids(rootPid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (Number(stat.split(') ')[1]?.split(' ')[1]) === rootPid) children.push(Number(entry));
  }
  return children;
}

/** Postgres is a process tree (postmaster + backends): its RSS is the sum over the postmaster and its children. */
export async function treeRssBytes(rootPid: number): Promise<number> {
  let total = await rssBytes(rootPid).catch(() => 0);
  for (const pid of await childPids(rootPid)) total += await rssBytes(pid).catch(() => 0);
  return total;
}

/** CPU of a process tree: the root (with its reaped children) plus the living children. */
export async function treeCpuSeconds(rootPid: number): Promise<number> {
  let total = await cpuSeconds(rootPid);
  for (const pid of await childPids(rootPid)) total += await cpuSeconds(pid).catch(() => 0);
  return total;
}

/** CPU seconds per thread name of a process (the worker: main, workflow threads, Temporal core, libuv pool). */
export async function threadCpuSeconds(pid: number): Promise<Map<string, number>> {
  const byName = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    // Node's worker threads (the workflow threads) share the main thread's name: tell the main one apart.
    const name = tid === String(pid) ? 'main' : (/\((.*)\)/.exec(stat)?.[1] ?? '?');
    const fields = stat.split(') ')[1]?.split(' ') ?? [];
    byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / CLOCK_TICKS);
  }
  return byName;
}

/** CPU the whole machine spent (all CPUs, every process), in seconds. */
export async function machineCpuSeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS;
}

/** The postmaster's pid, from its data directory. */
export async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await readFile(`${dataDir}/postmaster.pid`, 'utf8')).split('\n')[0]);
}

/**
 * A worker script (`cmd/worker.ts` or a benchmark's own) as a child process with `env` on top of this
 * process's environment; resolves once it polls. `profileDir`: it writes V8 CPU profiles there (main and
 * workflow threads) when it exits. `ipc`: the child gets an IPC channel (process.send).
 */
export function spawnPollingWorker(script: string, env: NodeJS.ProcessEnv, options: { profileDir?: string; ipc?: boolean } = {}): Promise<ChildProcess> {
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  const stdio: StdioOptions = options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', script], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      // Only the tail is kept (for the error below): the worker logs for as long as the benchmark runs.
      output = (output + chunk.toString()).slice(-8_000);
      if (output.includes('worker polling task queue')) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}):\n${output.slice(-4000)}`)));
  });
}

/** `cmd/worker.ts` as a child process (spawnPollingWorker). */
export function startWorkerProcess(env: NodeJS.ProcessEnv, profileDir?: string): Promise<ChildProcess> {
  return spawnPollingWorker('cmd/worker.ts', env, profileDir ? { profileDir } : {});
}
