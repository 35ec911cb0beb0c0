/**
 * `certflow import <files...> --team <teamId>` and `certflow scan --team <teamId> --targets-file <file>`:
 * the inventory beyond Certflow through the API (team admin or platform admin). Imports are sent in
 * batches under the API's limits (500 certificates, 4 MiB a request); a scan's targets (one per line,
 * `#` comments) in scans of at most 256 targets, waited for with --wait. `runInventoryCli(args, io)`
 * takes the whole argv (`import …` or `scan …`), so cmd/cli.ts wires it and tests drive it.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ApiError, jsonApi } from './cli-api.js';
import { DEFAULT_API_URL } from './cli-args.js';
import { formatProblem } from './cli-progress.js';

export interface InventoryIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

export const INVENTORY_USAGE = `usage: certflow import <file.pem>... --team <teamId>     import certificates (PEM files or bundles) into the team's inventory
       certflow scan --team <teamId> --targets-file <file> [--server-name <sni>] [--wait]
                         scan TLS endpoints (host:port, [v6]:port, a.b.c.d/nn:port up to /24; one per line)
  --json                 print the API's JSON
  --api-url <url>        or CERTFLOW_API_URL (default ${DEFAULT_API_URL})
  --token <token>        or CERTFLOW_TOKEN (a team admin or platform admin token)
exit codes: 0 done, 1 error or refused, 2 done but some certificates or endpoints failed`;

const BATCH_CERTIFICATES = 400;
const BATCH_BYTES = 2 * 1024 * 1024;
const SCAN_TARGETS = 256;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

const importAnswer = z.object({
  imported: z.number(),
  duplicate: z.number(),
  error: z.number(),
  flagged: z.number(),
  items: z.array(z.object({ index: z.number(), file: z.string(), status: z.string(), certificateId: z.string().optional(), error: z.string().optional() })),
});
const scanStarted = z.object({ id: z.string(), workflowId: z.string(), endpoints: z.number() });
const scanStatus = z.object({ status: z.string(), results: z.array(z.object({ endpoint: z.string(), outcome: z.string(), certificateId: z.string().optional(), error: z.string().optional() })).nullable() });

export async function runInventoryCli(argv: string[], io: InventoryIo): Promise<number> {
  const [command, ...args] = argv;
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: command === 'import',
      strict: true,
      options: {
        team: { type: 'string' },
        'targets-file': { type: 'string' },
        'server-name': { type: 'string' },
        wait: { type: 'boolean' },
        json: { type: 'boolean' },
        'api-url': { type: 'string' },
        token: { type: 'string' },
      },
    });
  } catch (error) {
    io.err(`error: ${(error as Error).message}\n\n${INVENTORY_USAGE}`);
    return 1;
  }
  const { values, positionals } = parsed;
  const usage = (message: string) => {
    io.err(`error: ${message}\n\n${INVENTORY_USAGE}`);
    return 1;
  };
  const token = values.token ?? io.env.CERTFLOW_TOKEN;
  if (!values.team) return usage('--team <teamId> is required');
  if (!token) return usage('no token: pass --token or set CERTFLOW_TOKEN');
  const call = jsonApi({ apiUrl: (values['api-url'] ?? io.env.CERTFLOW_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, ''), token }, io.fetch ?? fetch);
  const team = encodeURIComponent(values.team);
  try {
    if (command === 'import') {
      if (positionals.length === 0) return usage('name at least one PEM file');
      return await importFiles(io, positionals, (files) => call('POST', `/v1/teams/${team}/imports`, importAnswer, { files }), values.json ?? false);
    }
    if (!values['targets-file']) return usage('--targets-file <file> is required');
    const targets = (await readFile(values['targets-file'], 'utf8'))
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim())
      .filter((line) => line !== '');
    if (targets.length === 0) return usage(`${values['targets-file']} names no target`);
    let failed = 0;
    for (let start = 0; start < targets.length; start += SCAN_TARGETS) {
      const body = { targets: targets.slice(start, start + SCAN_TARGETS), ...(values['server-name'] ? { serverName: values['server-name'] } : {}) };
      const scan = await call('POST', `/v1/teams/${team}/scans`, scanStarted, body);
      io.out(values.json ? JSON.stringify(scan) : `scan ${scan.id} started: ${scan.endpoints} endpoint(s) (workflow ${scan.workflowId})`);
      if (!values.wait) continue;
      let status = await call('GET', `/v1/teams/${team}/scans/${scan.id}`, scanStatus);
      while (status.status === 'running') {
        await sleep(1000);
        status = await call('GET', `/v1/teams/${team}/scans/${scan.id}`, scanStatus);
      }
      for (const result of status.results ?? []) {
        if (result.outcome === 'failed') failed++;
        io.out(values.json ? JSON.stringify(result) : `${result.endpoint}  ${result.outcome}  ${result.certificateId ?? result.error ?? ''}`);
      }
      if (status.status !== 'completed') return usage(`scan ${scan.id} ended ${status.status}`);
    }
    return failed > 0 ? 2 : 0;
  } catch (error) {
    if (error instanceof ApiError) {
      io.err(formatProblem(error.status, error.problem));
      return 1;
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return usage((error as Error).message);
    throw error;
  }
}

async function importFiles(io: InventoryIo, paths: string[], send: (files: Array<{ name: string; pem: string }>) => Promise<z.output<typeof importAnswer>>, json: boolean): Promise<number> {
  // Whole PEM blocks per batch, so a bundle bigger than one request is split between blocks, never inside one.
  const pieces: Array<{ name: string; pem: string }> = [];
  for (const path of paths) {
    const text = await readFile(path, 'utf8');
    const blocks = text.match(PEM_BLOCK) ?? [text];
    for (const block of blocks) pieces.push({ name: basename(path), pem: block });
  }
  const totals = { imported: 0, duplicate: 0, error: 0, flagged: 0 };
  let batch: Array<{ name: string; pem: string }> = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const answer = await send(batch);
    for (const key of Object.keys(totals) as Array<keyof typeof totals>) totals[key] += answer[key];
    for (const item of answer.items) if (item.status === 'error') io.err(`${item.file} #${item.index + 1}: ${item.error}`);
    if (json) io.out(JSON.stringify(answer));
    batch = [];
    bytes = 0;
  };
  for (const piece of pieces) {
    if (batch.length >= BATCH_CERTIFICATES || bytes + piece.pem.length > BATCH_BYTES) await flush();
    batch.push(piece);
    bytes += piece.pem.length + piece.name.length + 32;
  }
  await flush();
  if (!json) io.out(`imported ${totals.imported}, already there ${totals.duplicate}, failed ${totals.error}, outside the team's policy (flagged) ${totals.flagged}`);
  return totals.error > 0 ? 2 : 0;
}
