/**
 * `certflow request | list | show | renew | revoke | approve | reject`: a certificate's life through
 * the API. Each command parses its arguments completely before anything is sent; the answers are
 * checked with zod but kept whole, so `--json` prints what the API said.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { CERT_STATES, KEY_ALGORITHMS, PROFILES, REVOCATION_REASONS } from '../core/types.js';
import { jsonApi } from './cli-api.js';
import {
  CliUsageError,
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  helpRequested,
  parseCommandArgs,
  printJson,
  resolveConnection,
  runCommand,
  type CliCommandSpec,
  type CliIo,
} from './cli-command.js';
import { EXIT_CODES_HELP, EXIT_OK } from './cli-exit.js';
import { formatFields, formatTable, shortTime, type Column } from './cli-table.js';

const versionSchema = z.looseObject({
  id: z.string(),
  serial: z.string(),
  issuerId: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  fingerprintSha256: z.string(),
  status: z.string(),
});

export const certificateSchema = z.looseObject({
  id: z.string(),
  teamId: z.string(),
  workflowId: z.string(),
  state: z.string(),
  commonName: z.string().nullable(),
  dnsNames: z.array(z.string()),
  ipAddresses: z.array(z.string()).default([]),
  uris: z.array(z.string()).default([]),
  profile: z.string(),
  keyAlgorithm: z.string(),
  validitySeconds: z.number().nullable().optional(),
  destinations: z.array(z.looseObject({ type: z.string() })).default([]),
  currentVersion: versionSchema.nullable(),
  nextRenewalAt: z.string().nullable().optional(),
  lastError: z.unknown().optional(),
  temporalUiUrl: z.string().nullable().optional(),
  createdAt: z.string(),
});
export type CertificateView = z.infer<typeof certificateSchema>;

const listSchema = z.object({ items: z.array(certificateSchema), nextCursor: z.string().nullable() });
const createdSchema = z.looseObject({ id: z.string(), workflowId: z.string(), state: z.string() });
const renewedSchema = z.looseObject({ id: z.string(), renewal: z.string() });
const revokedSchema = z.looseObject({});
const decisionSchema = z.looseObject({ id: z.string(), state: z.string(), decidedBy: z.unknown().optional(), decidedAt: z.string().nullable().optional() });

const CERTIFICATE_ID = /^crt_[a-z0-9]+$/;

function certificateId(command: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new CliUsageError(`${command} takes one certificate id (crt_…)`);
  const id = positionals[0]!;
  if (!CERTIFICATE_ID.test(id)) throw new CliUsageError(`"${id}" is not a certificate id (crt_…)`);
  return id;
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new CliUsageError(`${flag} must be one of ${allowed.join(', ')}; not "${value}"`);
  return value as T;
}

/** Names of a certificate for a table cell: the DNS names, else IPs and URIs, else the common name. */
export function namesOf(certificate: Pick<CertificateView, 'dnsNames' | 'ipAddresses' | 'uris' | 'commonName'>): string {
  const names = [...certificate.dnsNames, ...certificate.ipAddresses, ...certificate.uris];
  return names.length > 0 ? names.join(',') : (certificate.commonName ?? '');
}

export const CERTIFICATE_COLUMNS: Array<Column<CertificateView>> = [
  { header: 'ID', value: (row) => row.id },
  { header: 'STATE', value: (row) => row.state },
  { header: 'NAMES', value: namesOf },
  { header: 'PROFILE', value: (row) => row.profile },
  { header: 'NOT AFTER', value: (row) => shortTime(row.currentVersion?.notAfter) },
  { header: 'SERIAL', value: (row) => row.currentVersion?.serial },
];

export function formatCertificate(certificate: CertificateView): string {
  const version = certificate.currentVersion;
  const lastError = certificate.lastError ? (typeof certificate.lastError === 'string' ? certificate.lastError : JSON.stringify(certificate.lastError)) : null;
  return formatFields([
    ['id', certificate.id],
    ['state', certificate.state],
    ['team', certificate.teamId],
    ['common name', certificate.commonName],
    ['dns names', certificate.dnsNames.join(', ')],
    ['ip addresses', certificate.ipAddresses.join(', ')],
    ['uris', certificate.uris.join(', ')],
    ['profile', certificate.profile],
    ['key algorithm', certificate.keyAlgorithm],
    ['destinations', certificate.destinations.map((destination) => destination.type).join(', ')],
    ['serial', version?.serial],
    ['issuer', version?.issuerId],
    ['not before', version?.notBefore],
    ['not after', version?.notAfter],
    ['sha-256', version?.fingerprintSha256],
    ['next renewal', certificate.nextRenewalAt],
    ['last error', lastError],
    ['workflow', certificate.workflowId],
    ['temporal ui', certificate.temporalUiUrl],
  ]);
}

// ---- request ------------------------------------------------------------------------------------

const REQUEST_USAGE = `usage: certflow request <dns name>... --team <id|name> [options]
  requests a certificate; prints its id and state (the lifecycle issues it in the background)
  --team <id|name>          required
  --common-name <name>      default: the first DNS name (the API decides)
  --ip <address>            an IP address SAN (repeatable)
  --uri <uri>               a spiffe:// or https:// URI SAN (repeatable)
  --profile <profile>       ${PROFILES.join(', ')} (default tls-server)
  --key-algorithm <alg>     ${KEY_ALGORITHMS.join(', ')} (default: the API's)
  --validity <duration>     ISO-8601 (P30D) or seconds; default: the team policy's defaultValidity
  --renew-before <duration> ISO-8601 or seconds
  --csr <file>              a PEM CSR; the key then stays with you (else it is generated and kept encrypted)
  --destinations <file>     a JSON array of destinations (see docs/openapi.json)
  --idempotency-key <key>   a retried request with the same key returns the first answer
${CONNECTION_HELP}
${EXIT_CODES_HELP}`;

const REQUEST_OPTIONS = {
  ...CONNECTION_OPTIONS,
  team: { type: 'string' },
  'common-name': { type: 'string' },
  ip: { type: 'string', multiple: true },
  uri: { type: 'string', multiple: true },
  profile: { type: 'string' },
  'key-algorithm': { type: 'string' },
  validity: { type: 'string' },
  'renew-before': { type: 'string' },
  csr: { type: 'string' },
  destinations: { type: 'string' },
  'idempotency-key': { type: 'string' },
} as const;

/** The request body of POST /v1/certificates from the arguments, the CSR and destinations read from their files. */
export async function requestBody(args: string[], readText: (path: string) => Promise<string> = (path) => readFile(path, 'utf8')) {
  const { values, positionals } = parseCommandArgs(args, REQUEST_OPTIONS);
  if (values.help) return { values, body: null };
  if (!values.team) throw new CliUsageError('request needs --team <id|name>');
  if (positionals.length === 0 && !values.ip && !values.uri && !values['common-name']) throw new CliUsageError('request needs at least one name: DNS names as arguments, --ip, --uri or --common-name');
  const read = async (flag: string, path: string) => {
    try {
      return await readText(path);
    } catch (error) {
      throw new CliUsageError(`${flag} ${path}: ${(error as Error).message}`);
    }
  };
  let destinations: unknown[] | undefined;
  if (values.destinations) {
    const text = await read('--destinations', values.destinations);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CliUsageError(`--destinations ${values.destinations}: not JSON`);
    }
    if (!Array.isArray(parsed)) throw new CliUsageError(`--destinations ${values.destinations}: must hold a JSON array of destinations`);
    destinations = parsed;
  }
  const csr = values.csr ? await read('--csr', values.csr) : undefined;
  if (csr !== undefined && !csr.includes('-----BEGIN CERTIFICATE REQUEST-----')) throw new CliUsageError(`--csr ${values.csr}: not a PEM certificate request`);
  const body = {
    team: values.team,
    dnsNames: positionals,
    ...(values['common-name'] ? { commonName: values['common-name'] } : {}),
    ...(values.ip ? { ipAddresses: values.ip } : {}),
    ...(values.uri ? { uris: values.uri } : {}),
    ...(values.profile ? { profile: oneOf('--profile', values.profile, PROFILES) } : {}),
    ...(values['key-algorithm'] ? { keyAlgorithm: oneOf('--key-algorithm', values['key-algorithm'], KEY_ALGORITHMS) } : {}),
    ...(values.validity ? { validity: duration('--validity', values.validity) } : {}),
    ...(values['renew-before'] ? { renewBefore: duration('--renew-before', values['renew-before']) } : {}),
    ...(csr !== undefined ? { csr } : {}),
    ...(destinations ? { destinations } : {}),
  };
  return { values, body };
}

/** An ISO-8601 duration stays text (the API reads it); whole seconds become a number. */
function duration(flag: string, value: string): string | number {
  if (/^\d+$/.test(value)) return Number(value);
  if (/^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/.test(value)) return value;
  throw new CliUsageError(`${flag} must be an ISO-8601 duration such as P30D or PT12H, or whole seconds; not "${value}"`);
}

export const requestCommand: CliCommandSpec = {
  name: 'request',
  summary: 'request a certificate (names, team; validity from the team policy unless given)',
  usage: REQUEST_USAGE,
  run: (args, io) =>
    runCommand(requestCommand, args, io, async () => {
      const { values, body } = await requestBody(args);
      if (helpRequested(values, io, REQUEST_USAGE) || !body) return EXIT_OK;
      const call = jsonApi(await resolveConnection(values, io.env), io.fetch);
      const headers: Record<string, string> = values['idempotency-key'] ? { 'Idempotency-Key': values['idempotency-key'] } : {};
      const created = await call('POST', '/v1/certificates', createdSchema, body, headers);
      if (values.json) printJson(io, created);
      else io.out(formatFields([['id', created.id], ['state', created.state], ['workflow', created.workflowId]]));
      return EXIT_OK;
    }),
};

// ---- list ---------------------------------------------------------------------------------------

const LIST_USAGE = `usage: certflow list [options]
  lists certificates, newest first, one page at a time (the next page's cursor is printed last)
  --team <id|name>            a platform admin may list any team; others their own
  --state <state>             ${CERT_STATES.join(', ')}
  --source <source>           api, acme, …
  --expiring-before <time>    ISO-8601 date-time
  --stuck                     only certificates stuck in issuing, renewing or failed
  --limit <n>                 page size, 1-200 (default 50)
  --cursor <cursor>           the page after the one that printed this cursor
  --all                       follow the cursors and print every page
${CONNECTION_HELP}
${EXIT_CODES_HELP}`;

const LIST_OPTIONS = {
  ...CONNECTION_OPTIONS,
  team: { type: 'string' },
  state: { type: 'string' },
  source: { type: 'string' },
  'expiring-before': { type: 'string' },
  stuck: { type: 'boolean' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  all: { type: 'boolean' },
} as const;

/** The query string of GET /v1/certificates (without the cursor) and whether to follow cursors. */
export function listQuery(args: string[]) {
  const { values, positionals } = parseCommandArgs(args, LIST_OPTIONS);
  if (positionals.length > 0) throw new CliUsageError(`list takes options only; unexpected "${positionals.join(' ')}"`);
  const query = new URLSearchParams();
  if (values.team) query.set('team', values.team);
  if (values.state) query.set('state', oneOf('--state', values.state, CERT_STATES)!);
  if (values.source) query.set('source', values.source);
  if (values['expiring-before']) {
    if (Number.isNaN(Date.parse(values['expiring-before'])) || !/^\d{4}-\d{2}-\d{2}T/.test(values['expiring-before'])) {
      throw new CliUsageError(`--expiring-before must be an ISO-8601 date-time such as 2027-01-31T00:00:00Z; not "${values['expiring-before']}"`);
    }
    query.set('expiringBefore', values['expiring-before']);
  }
  if (values.stuck) query.set('stuck', 'true');
  if (values.limit !== undefined) {
    if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1 || Number(values.limit) > 200) throw new CliUsageError(`--limit must be a whole number from 1 to 200; not "${values.limit}"`);
    query.set('limit', values.limit);
  }
  if (values.all && values.cursor) throw new CliUsageError('--all starts from the first page; leave out --cursor');
  return { values, query, cursor: values.cursor ?? null, all: values.all ?? false };
}

export const listCommand: CliCommandSpec = {
  name: 'list',
  summary: 'list certificates (filters, pagination)',
  usage: LIST_USAGE,
  run: (args, io) =>
    runCommand(listCommand, args, io, async () => {
      const { values, query, cursor: firstCursor, all } = listQuery(args);
      if (helpRequested(values, io, LIST_USAGE)) return EXIT_OK;
      const call = jsonApi(await resolveConnection(values, io.env), io.fetch);
      const items: CertificateView[] = [];
      let cursor = firstCursor;
      for (;;) {
        const pageQuery = new URLSearchParams(query);
        if (cursor) pageQuery.set('cursor', cursor);
        const page = await call('GET', `/v1/certificates?${pageQuery.toString()}`, listSchema);
        items.push(...page.items);
        cursor = page.nextCursor;
        if (!all || !cursor) break;
      }
      if (values.json) printJson(io, { items, nextCursor: cursor });
      else {
        io.out(items.length > 0 ? formatTable(CERTIFICATE_COLUMNS, items) : 'no certificates');
        if (cursor) io.out(`more: certflow list --cursor ${cursor}`);
      }
      return EXIT_OK;
    }),
};

// ---- show, renew, revoke, approve, reject --------------------------------------------------------

const SHOW_USAGE = `usage: certflow show <certificate id>
  a certificate's state, current version, next renewal and last error
${CONNECTION_HELP}
${EXIT_CODES_HELP}`;

export const showCommand: CliCommandSpec = {
  name: 'show',
  summary: "show a certificate's state, version, next renewal and last error",
  usage: SHOW_USAGE,
  run: (args, io) =>
    runCommand(showCommand, args, io, async () => {
      const { values, positionals } = parseCommandArgs(args, CONNECTION_OPTIONS);
      if (helpRequested(values, io, SHOW_USAGE)) return EXIT_OK;
      const id = certificateId('show', positionals);
      const call = jsonApi(await resolveConnection(values, io.env), io.fetch);
      const certificate = await call('GET', `/v1/certificates/${id}`, certificateSchema);
      if (values.json) printJson(io, certificate);
      else io.out(formatCertificate(certificate));
      return EXIT_OK;
    }),
};

const RENEW_USAGE = `usage: certflow renew <certificate id> [--reason <text>]
  asks the certificate's lifecycle to renew now (the answer comes at once; the renewal follows)
  --reason <text>   recorded in the audit log
${CONNECTION_HELP}
${EXIT_CODES_HELP}`;

export const renewCommand: CliCommandSpec = {
  name: 'renew',
  summary: 'renew a certificate now',
  usage: RENEW_USAGE,
  run: (args, io) =>
    runCommand(renewCommand, args, io, async () => {
      const { values, positionals } = parseCommandArgs(args, { ...CONNECTION_OPTIONS, reason: { type: 'string' } });
      if (helpRequested(values, io, RENEW_USAGE)) return EXIT_OK;
      const id = certificateId('renew', positionals);
      const call = jsonApi(await resolveConnection(values, io.env), io.fetch);
      const answer = await call('POST', `/v1/certificates/${id}/renew`, renewedSchema, values.reason ? { reason: values.reason } : {});
      if (values.json) printJson(io, answer);
      else io.out(`${id}: renewal ${answer.renewal}`);
      return EXIT_OK;
    }),
};

const REVOKE_USAGE = `usage: certflow revoke <certificate id> [--reason <code>]
  revokes the certificate (RFC 5280 reason code; a revocation always wins over a renewal under way)
  --reason <code>   ${REVOCATION_REASONS.join(', ')} (default unspecified)
${CONNECTION_HELP}
${EXIT_CODES_HELP}`;

export const revokeCommand: CliCommandSpec = {
  name: 'revoke',
  summary: 'revoke a certificate (RFC 5280 reason code)',
  usage: REVOKE_USAGE,
  run: (args, io) =>
    runCommand(revokeCommand, args, io, async () => {
      const { values, positionals } = parseCommandArgs(args, { ...CONNECTION_OPTIONS, reason: { type: 'string' } });
      if (helpRequested(values, io, REVOKE_USAGE)) return EXIT_OK;
      const id = certificateId('revoke', positionals);
      const reason = oneOf('--reason', values.reason, REVOCATION_REASONS) ?? 'unspecified';
      const call = jsonApi(await resolveConnection(values, io.env), io.fetch);
      const answer = await call('POST', `/v1/certificates/${id}/revoke`, revokedSchema, { reason });
      if (values.json) printJson(io, answer);
      else io.out(`${id}: revocation requested (${reason})`);
      return EXIT_OK;
    }),
};

function decisionCommand(decision: 'approve' | 'reject'): CliCommandSpec {
  const usage = `usage: certflow ${decision} <certificate id> --reason <text>
  ${decision === 'approve' ? 'approves' : 'rejects'} a certificate request that waits for approval (an approver token;
  not the requester's own)
  --reason <text>   required, recorded in the audit log
${CONNECTION_HELP}
${EXIT_CODES_HELP}`;
  const spec: CliCommandSpec = {
    name: decision,
    summary: `${decision} a certificate request that waits for approval`,
    usage,
    run: (args, io) =>
      runCommand(spec, args, io, async () => {
        const { values, positionals } = parseCommandArgs(args, { ...CONNECTION_OPTIONS, reason: { type: 'string' } });
        if (helpRequested(values, io, usage)) return EXIT_OK;
        const id = certificateId(decision, positionals);
        if (!values.reason || values.reason.trim() === '') throw new CliUsageError(`${decision} needs --reason <text>: say why, for the audit log`);
        const call = jsonApi(await resolveConnection(values, io.env), io.fetch);
        const answer = await call('POST', `/v1/certificates/${id}/${decision}`, decisionSchema, { reason: values.reason });
        if (values.json) printJson(io, answer);
        else io.out(`${id}: ${answer.state}`);
        return EXIT_OK;
      }),
  };
  return spec;
}

export const approveCommand = decisionCommand('approve');
export const rejectCommand = decisionCommand('reject');

export type { CliIo };
