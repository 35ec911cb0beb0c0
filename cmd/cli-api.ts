/**
 * The CLI's HTTP client for `/v1/bulk-reissues`: one function per call, every answer checked with
 * zod (tolerant of new fields), every error answer turned into an ApiError carrying the problem
 * details the API sent.
 */
import { z } from 'zod';
import type { BulkReissueRequest, Connection } from './cli-args.js';

const countsSchema = z.object({
  selected: z.number(),
  sent: z.number(),
  reissued: z.number(),
  rolled_out: z.number(),
  verified: z.number(),
  failed: z.number(),
  skipped: z.number(),
  revoked: z.number(),
});
export type Counts = z.infer<typeof countsSchema>;

export const progressSchema = z.object({
  bulkId: z.string(),
  state: z.string(),
  counts: countsSchema,
  inFlight: z.number(),
  startedAt: z.string(),
  ratePerSecond: z.number(),
  etaAt: z.string().nullable(),
});
export type Progress = z.infer<typeof progressSchema>;

export const dryRunSchema = z.object({
  dryRun: z.literal(true),
  count: z.number(),
  perTeam: z.array(z.object({ teamId: z.string(), teamName: z.string(), count: z.number() })),
  sample: z.array(
    z.object({
      certificateId: z.string(),
      commonName: z.string().nullable(),
      dnsNames: z.array(z.string()),
      serial: z.string(),
      issuerId: z.string(),
      notAfter: z.string(),
    }),
  ),
});
export type DryRun = z.infer<typeof dryRunSchema>;

const startedSchema = z.object({ id: z.string(), workflowId: z.string(), state: z.string() });
export type Started = z.infer<typeof startedSchema>;

export const operationSchema = z.object({
  id: z.string(),
  workflowId: z.string(),
  state: z.string(),
  counts: countsSchema,
  options: z.object({ reason: z.string(), maxConcurrent: z.number(), maxPerSecond: z.number(), revokeSuperseded: z.boolean() }),
  selector: z.record(z.string(), z.unknown()),
  createdBy: z.string(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  progress: progressSchema.nullable(),
  items: z.array(
    z.object({
      certificateId: z.string(),
      outcome: z.string().nullable(),
      reason: z.string().nullable(),
      oldVersionId: z.string().nullable(),
      newVersionId: z.string().nullable(),
      revokedAt: z.string().nullable(),
    }),
  ),
  nextCursor: z.string().nullable(),
});
export type Operation = z.infer<typeof operationSchema>;

/** The problem details of an error answer, every member kept (`--json` prints them as sent). */
const problemSchema = z.looseObject({
  type: z.string().optional(),
  status: z.number().optional(),
  detail: z.string().optional(),
  title: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof problemSchema>;

/** An error answer of the API (its problem details), or a transport failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
  ) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
  }
}

/**
 * One JSON call to the API, answered in the shape `schema` describes: an error answer, a transport
 * failure or an unexpected shape becomes an ApiError with something a person can act on.
 */
export function jsonApi(connection: Connection, fetchImpl: typeof fetch = fetch) {
  return async function call<T extends z.ZodType>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    schema: T,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<z.output<T>> {
    let response: Response;
    try {
      response = await fetchImpl(`${connection.apiUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${connection.token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
      throw new ApiError(0, { detail: `cannot reach the API at ${connection.apiUrl} (${cause})` });
    }
    const text = await response.text();
    let json: unknown = undefined;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Not JSON: reported below with the status.
    }
    if (!response.ok) {
      const problem = problemSchema.safeParse(json);
      throw new ApiError(response.status, problem.success && (problem.data.detail || problem.data.title) ? problem.data : { detail: `HTTP ${response.status} ${text.slice(0, 200)}` });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ApiError(response.status, { detail: `unexpected answer from ${method} ${path}: ${parsed.error.issues[0]?.message ?? 'not the documented shape'}` });
    return parsed.data;
  };
}

export function bulkApi(connection: Connection, fetchImpl: typeof fetch = fetch) {
  const call = jsonApi(connection, fetchImpl);
  return {
    dryRun: (request: BulkReissueRequest) => call('POST', '/v1/bulk-reissues', dryRunSchema, { ...request, dryRun: true }),
    start: (request: BulkReissueRequest) => call('POST', '/v1/bulk-reissues', startedSchema, { ...request, dryRun: false }),
    status: (id: string, itemLimit = 1) => call('GET', `/v1/bulk-reissues/${encodeURIComponent(id)}?limit=${itemLimit}`, operationSchema),
    steer: (id: string, action: 'pause' | 'resume' | 'cancel') => call('POST', `/v1/bulk-reissues/${encodeURIComponent(id)}/${action}`, progressSchema),
  };
}
export type BulkApi = ReturnType<typeof bulkApi>;
