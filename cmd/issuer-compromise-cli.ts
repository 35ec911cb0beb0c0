/**
 * `certflow issuer-compromise <issuerId> --reason <text> [--yes]`: shows what the drill will touch,
 * asks for confirmation, starts the issuer compromise drill through the API, follows its phases
 * and prints the report. `runIssuerCompromise(args, io)` takes the arguments after the command
 * name and everything it touches through `io`, so cmd/cli.ts wires it and tests drive it.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { CompromiseReport } from '../core/issuer-compromise.js';
import { ApiError, jsonApi } from './cli-api.js';

export interface IssuerCompromiseIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Record<string, string | undefined>;
  /** Asks on the terminal; null when there is no terminal to ask on. */
  ask: ((question: string) => Promise<string>) | null;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export const ISSUER_COMPROMISE_USAGE = `usage: certflow issuer-compromise <issuerId> --reason <text> [options]
  marks the intermediate compromised, creates its successor, reissues every certificate under it
  onto the successor, revokes the replaced certificates and the intermediate, publishes the CRLs
  and prints a report
  --reason <text>        required, recorded in the audit log and the report
  --max-concurrent <n>   renewals under way at once (API default 50)
  --max-per-second <n>   renewals started per second (API default 50)
  --yes                  do not ask for confirmation (needed without a terminal)
  --json                 print the report as JSON
  --api-url <url>        or CERTFLOW_API_URL (default http://127.0.0.1:8080)
  --token <token>        or CERTFLOW_TOKEN (a platform admin token)
exit codes: 0 completed, 2 completed with failed certificates, 3 incomplete (reissue cancelled),
  1 error or refused`;

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_WITH_FAILURES = 2;
export const EXIT_INCOMPLETE = 3;

const POLL_MS = 2_000;

const issuerSchema = z.object({ id: z.string(), kind: z.string(), status: z.string(), commonName: z.string().optional(), parentId: z.string().nullable() });
const dryRunSchema = z.object({ count: z.number() });
const startedSchema = z.object({ workflowId: z.string(), issuerId: z.string() });
const drillSchema = z.object({
  state: z.enum(['running', 'completed', 'failed']),
  phase: z.string().nullable().optional(),
  successorId: z.string().nullable().optional(),
  bulkId: z.string().nullable().optional(),
  error: z.string().optional(),
  report: z.record(z.string(), z.unknown()).nullable(),
});

class CliError extends Error {}

interface Options {
  issuerId: string;
  reason: string;
  maxConcurrent?: number;
  maxPerSecond?: number;
  yes: boolean;
  json: boolean;
  apiUrl: string;
  token: string;
}

export async function runIssuerCompromise(args: string[], io: IssuerCompromiseIo): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(args, io.env);
  } catch (error) {
    if (error instanceof CliError || (error instanceof TypeError && String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS'))) {
      io.err(`error: ${error.message}\n\n${ISSUER_COMPROMISE_USAGE}`);
      return EXIT_ERROR;
    }
    throw error;
  }
  const call = jsonApi({ apiUrl: options.apiUrl, token: options.token }, io.fetch ?? fetch);
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  try {
    const issuers = await call('GET', '/v1/issuers', z.array(issuerSchema));
    const issuer = issuers.find((candidate) => candidate.id === options.issuerId);
    if (!issuer) throw new CliError(`no issuer "${options.issuerId}"`);
    const affected = await call('POST', '/v1/bulk-reissues', dryRunSchema, { selector: { issuers: [issuer.id] }, reason: options.reason, dryRun: true })
      .then((answer) => answer.count)
      .catch(() => null);
    io.out(`issuer ${issuer.id} (${issuer.commonName ?? issuer.kind}), status ${issuer.status}, under root ${issuer.parentId ?? '-'}`);
    io.out(`certificates to reissue onto a successor: ${affected ?? 'unknown'}`);
    if (!options.yes) {
      if (!io.ask) throw new CliError('not starting without confirmation: no terminal to ask on; pass --yes to start');
      const answer = await io.ask(`mark ${issuer.id} compromised, reissue everything under it and revoke it? [y/N] `);
      if (!/^y(es)?$/i.test(answer.trim())) {
        io.out('not started');
        return EXIT_ERROR;
      }
    }
    const path = `/v1/issuers/${encodeURIComponent(issuer.id)}/compromise`;
    const started = await call('POST', path, startedSchema, {
      reason: options.reason,
      ...(options.maxConcurrent ? { maxConcurrent: options.maxConcurrent } : {}),
      ...(options.maxPerSecond ? { maxPerSecond: options.maxPerSecond } : {}),
    });
    io.out(`started the drill (workflow ${started.workflowId})`);
    let lastPhase: string | null = null;
    for (;;) {
      const drill = await call('GET', path, drillSchema);
      if (drill.state === 'running') {
        const phase = drill.phase ?? 'starting';
        if (phase !== lastPhase) io.out(`  ${phase}${drill.successorId ? ` (successor ${drill.successorId})` : ''}${drill.bulkId ? ` (bulk ${drill.bulkId})` : ''}`);
        lastPhase = phase;
        await sleep(POLL_MS);
        continue;
      }
      if (drill.state === 'failed' || !drill.report) {
        io.err(`the drill failed: ${drill.error ?? 'no report'}`);
        return EXIT_ERROR;
      }
      const report = drill.report as unknown as CompromiseReport;
      io.out(options.json ? JSON.stringify(report, null, 2) : formatCompromiseReport(report));
      if (report.outcome !== 'completed') return EXIT_INCOMPLETE;
      return report.failed.length > 0 ? EXIT_WITH_FAILURES : EXIT_OK;
    }
  } catch (error) {
    if (error instanceof CliError || error instanceof ApiError) {
      io.err(`error: ${error.message}`);
      return EXIT_ERROR;
    }
    throw error;
  }
}

/** The report for people: summary, timings, then every replaced and failed certificate. */
export function formatCompromiseReport(report: CompromiseReport): string {
  const t = report.timings;
  const lines = [
    `issuer compromise drill ${report.outcome}: ${report.issuerId} → successor ${report.successorId} (bulk ${report.bulkId})`,
    `reason: ${report.reason}`,
    `selected ${report.counts.selected}, replaced ${report.counts.replaced}, failed or remaining ${report.counts.failedOrRemaining}, superseded versions revoked ${report.counts.revoked}`,
    `timings: marked ${t.markedAt}, successor ${t.successorAt}, reissue ${t.reissueStartedAt} → ${t.reissueFinishedAt}, revoked ${t.revokedAt ?? 'not revoked'}, total ${t.totalSeconds} s`,
    `CRLs published: ${report.crls.map((crl) => `${crl.issuerId} #${crl.crlNumber}`).join(', ') || 'none'}`,
  ];
  if (report.replaced.length > 0) {
    lines.push('replaced:');
    for (const item of report.replaced) lines.push(`  ${item.certificateId}  ${item.oldSerial ?? '?'} → ${item.newSerial ?? '?'}  ${item.outcome}${item.oldRevoked ? ', old revoked' : ''}`);
  }
  if (report.failed.length > 0) {
    lines.push('failed:');
    for (const item of report.failed) lines.push(`  ${item.certificateId}  ${item.reason}`);
  }
  if (report.truncated) lines.push('(lists truncated: GET /v1/issuers/<id>/compromise has the full report)');
  if (report.outcome !== 'completed') lines.push('the intermediate is compromised but NOT revoked: the reissue did not finish; run the drill again');
  return lines.join('\n');
}

function parseOptions(args: string[], env: Record<string, string | undefined>): Options {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      reason: { type: 'string' },
      'max-concurrent': { type: 'string' },
      'max-per-second': { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      json: { type: 'boolean' },
      'api-url': { type: 'string' },
      token: { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new CliError('name exactly one issuer id');
  const issuerId = positionals[0]!;
  if (!/^iss_[a-z2-7]+$/.test(issuerId)) throw new CliError(`"${issuerId}" is not an issuer id (iss_…)`);
  const reason = values.reason?.trim();
  if (!reason) throw new CliError('--reason <text> is required: say why, for the audit log');
  const apiUrl = (values['api-url'] ?? env['CERTFLOW_API_URL'] ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  if (!/^https?:\/\/\S+$/.test(apiUrl)) throw new CliError(`the API URL "${apiUrl}" is not an http(s) URL`);
  const token = values.token ?? env['CERTFLOW_TOKEN'];
  if (!token) throw new CliError('no API token: pass --token <token> or set CERTFLOW_TOKEN');
  return {
    issuerId,
    reason,
    maxConcurrent: positiveInteger('--max-concurrent', values['max-concurrent']),
    maxPerSecond: positiveInteger('--max-per-second', values['max-per-second']),
    yes: values.yes ?? false,
    json: values.json ?? false,
    apiUrl,
    token,
  };
}

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new CliError(`${flag} must be a positive whole number, not "${value}"`);
  return Number(value);
}
