/**
 * Screenshots the Temporal UI's workflow list for a visibility query with headless Chromium — evidence
 * that the search attributes answer "which renewals are stuck" (docs/operations.md).
 *
 *   tsx scripts/screenshot-temporal-ui.ts [--query '<visibility query>'] [--out <file.png>]
 *       [--ui <Temporal UI base URL>] [--namespace <ns>] [--expect <text>]... [--install-only]
 *
 * Chromium: `$CHROMIUM_PATH`, else chromium / chromium-browser / google-chrome on PATH, else the Debian package
 * `chromium`, installed with apt-get when running as root (otherwise this fails saying what to install).
 *
 * The UI is a single-page app that loads the list with XHRs after the first paint, so Chromium gets a virtual
 * time budget; the rendered DOM is checked for the `--expect` texts (e.g. workflow ids) and the PNG for being
 * more than a blank page. When either check fails the shot is retried with `--headless=new` and a longer budget.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { inflateSync } from 'node:zlib';
import { certflowCacheDir } from '../devservices/go-tool.js';
import { acquireLock, executableFromEnv, findOnPath, isEntryPoint, runLogged, type Log } from '../devservices/process-helpers.js';

export const DEFAULT_QUERY = 'CertState="renewing" AND RenewalAttempt > 3';
export const DEFAULT_OUT = 'docs/images/temporal-ui-stuck-renewals.png';
const CHROMIUM_COMMANDS = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
const APT_PACKAGE = 'chromium';
const WINDOW = { width: 1600, height: 1000 };

/** Attempts from cheapest to most patient: old headless mode first, then the new one with more time. */
const ATTEMPTS = [
  { headless: '--headless', budgetMs: 15_000 },
  { headless: '--headless=new', budgetMs: 30_000 },
  { headless: '--headless=new', budgetMs: 60_000 },
] as const;

export interface ScreenshotOptions {
  uiUrl: string;
  namespace: string;
  query: string;
  out: string;
  /** Texts the rendered list must contain (e.g. the workflow ids the query should find). */
  expect: string[];
  env?: NodeJS.ProcessEnv;
}

export interface ScreenshotResult {
  url: string;
  out: string;
  chromium: string;
  /** Distinct pixel rows of the PNG: about 1 for a blank page, hundreds for a rendered list. */
  distinctRows: number;
  /** Which of the expected texts the rendered DOM contained. */
  found: string[];
}

/** The UI's list URL for a namespace and visibility query. */
export function workflowListUrl(uiUrl: string, namespace: string, query: string): string {
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(query)}`;
}

export async function screenshotWorkflowList(options: ScreenshotOptions, log: Log): Promise<ScreenshotResult> {
  const env = options.env ?? process.env;
  const chromium = await ensureChromium(env, log);
  const url = workflowListUrl(options.uiUrl, options.namespace, options.query);
  const out = path.resolve(options.out);
  await fs.mkdir(path.dirname(out), { recursive: true });
  let last: ScreenshotResult | null = null;
  for (const attempt of ATTEMPTS) {
    const common = [attempt.headless, '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--hide-scrollbars', `--window-size=${WINDOW.width},${WINDOW.height}`, `--virtual-time-budget=${attempt.budgetMs}`];
    log(`${chromium} ${attempt.headless} --virtual-time-budget=${attempt.budgetMs} → ${url}`);
    await fs.rm(out, { force: true });
    await runChromium(chromium, [...common, `--screenshot=${out}`, url], env);
    const dom = await runChromium(chromium, [...common, '--dump-dom', url], env);
    const distinctRows = distinctPngRows(await fs.readFile(out));
    const found = options.expect.filter((text) => dom.includes(text));
    last = { url, out, chromium, distinctRows, found };
    const blank = distinctRows < 20;
    const missing = options.expect.filter((text) => !found.includes(text));
    if (!blank && missing.length === 0) return last;
    log(`not rendered yet (${blank ? 'blank page' : `${distinctRows} distinct rows`}${missing.length ? `; missing in the DOM: ${missing.join(', ')}` : ''}); retrying`);
  }
  throw new Error(`the Temporal UI list did not render at ${url}: ${JSON.stringify(last)}`);
}

/** Runs Chromium and returns its stdout; Chromium logs harmless noise (dbus, GPU) to stderr. */
function runChromium(chromium: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(chromium, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A hung browser must not hang the script: far beyond the largest virtual time budget.
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${chromium} exited with ${code ?? signal}:\n${stderr.split('\n').slice(-20).join('\n')}`));
    });
  });
}

/**
 * Counts the distinct scanlines of a non-interlaced 8-bit PNG (what Chromium writes). Blank and
 * single-colour pages have one or two; a rendered table has hundreds. Filter bytes are left in: rows of a
 * uniform page all filter to the same bytes, so they still count as one.
 */
export function distinctPngRows(png: Buffer): number {
  if (png.length < 33 || png.toString('latin1', 1, 4) !== 'PNG') throw new Error('not a PNG file');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const colorType = png[25]!;
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colorType] ?? 1;
  const chunks: Buffer[] = [];
  for (let offset = 8; offset + 8 <= png.length; ) {
    const length = png.readUInt32BE(offset);
    if (png.toString('latin1', offset + 4, offset + 8) === 'IDAT') chunks.push(png.subarray(offset + 8, offset + 8 + length));
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(chunks));
  const stride = 1 + width * channels;
  const rows = new Set<string>();
  for (let row = 0; row < height && (row + 1) * stride <= raw.length; row++) rows.add(raw.subarray(row * stride, (row + 1) * stride).toString('base64'));
  return rows.size;
}

export async function ensureChromium(env: NodeJS.ProcessEnv, log: Log): Promise<string> {
  const found = await findChromium(env);
  if (found) return found;
  const apt = await findOnPath('apt-get', env);
  const isRoot = process.getuid?.() === 0;
  if (!apt || !isRoot) {
    throw new Error(
      `Chromium is missing. Install it (Debian/Ubuntu: sudo apt-get install -y ${APT_PACKAGE}) or set CHROMIUM_PATH; ` +
        `this script installs it itself only when running as root with apt-get (${!apt ? 'no apt-get on PATH' : 'not running as root'}).`,
    );
  }
  const cacheDir = certflowCacheDir(env);
  await fs.mkdir(cacheDir, { recursive: true });
  const release = await acquireLock(path.join(cacheDir, 'apt-chromium.lock'), 'apt-get install of chromium', log);
  try {
    const again = await findChromium(env); // installed by whoever held the lock before us
    if (again) return again;
    const startedAt = Date.now();
    log(`Installing ${APT_PACKAGE} with apt-get`);
    const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
    // Wait for other apt/dpkg users instead of failing on dpkg's lock.
    const lockTimeout = ['-o', 'DPkg::Lock::Timeout=600'];
    await runLogged(apt, [...lockTimeout, 'update'], { env: aptEnv, log, tag: 'apt' });
    await runLogged(apt, [...lockTimeout, 'install', '-y', '--no-install-recommends', APT_PACKAGE], { env: aptEnv, log, tag: 'apt' });
    const installed = await findChromium(env);
    if (!installed) throw new Error(`apt-get installed ${APT_PACKAGE} but none of ${CHROMIUM_COMMANDS.join(', ')} is on PATH`);
    log(`Installed ${APT_PACKAGE} in ${Math.round((Date.now() - startedAt) / 1000)} s`);
    return installed;
  } finally {
    await release();
  }
}

async function findChromium(env: NodeJS.ProcessEnv): Promise<string | null> {
  const explicit = await executableFromEnv(env, 'CHROMIUM_PATH');
  if (explicit) return explicit;
  for (const command of CHROMIUM_COMMANDS) {
    const found = await findOnPath(command, env);
    if (found) return found;
  }
  return null;
}

if (isEntryPoint(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      query: { type: 'string', default: DEFAULT_QUERY },
      out: { type: 'string', default: DEFAULT_OUT },
      ui: { type: 'string' },
      namespace: { type: 'string' },
      expect: { type: 'string', multiple: true, default: [] },
      'install-only': { type: 'boolean', default: false },
    },
  });
  const log: Log = (message) => console.error(`[screenshot] ${message}`);
  const env = process.env;
  const uiUrl = values.ui ?? env['CERTFLOW_TEMPORAL_UI_URL'] ?? `http://127.0.0.1:${env['TEMPORAL_UI_PORT'] ?? '8233'}`;
  const run = values['install-only']
    ? ensureChromium(env, log).then((chromium) => ({ chromium }))
    : screenshotWorkflowList({ uiUrl, namespace: values.namespace ?? env['TEMPORAL_NAMESPACE'] ?? 'default', query: values.query, out: values.out, expect: values.expect }, log);
  run.then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
