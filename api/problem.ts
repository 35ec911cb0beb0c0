/**
 * RFC 9457 problem details. Every error the API returns goes through `problem()` so clients can
 * rely on one shape: `type`, `title`, `status`, `detail`, and `errors[]` for field problems.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export interface FieldProblem {
  /** JSON pointer-like path of the offending field, e.g. `dnsNames/2`. */
  field: string;
  message: string;
  /** A machine-readable reason, where there is one (e.g. a team-policy violation code). */
  code?: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

export class ProblemError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly slug: string,
    readonly title: string,
    readonly detail: string,
    readonly extensions: { errors?: FieldProblem[]; [key: string]: unknown } = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
  }

  toBody(): ProblemBody {
    return { type: `/problems/${this.slug}`, title: this.title, status: this.status, detail: this.detail, ...this.extensions };
  }
}

export const problems = {
  validation: (detail: string, errors: FieldProblem[] = []) =>
    new ProblemError(400, 'validation-failed', 'The request is not valid', detail, errors.length ? { errors } : {}),
  malformedJson: (detail: string) => new ProblemError(400, 'malformed-json', 'The request body is not valid JSON', detail),
  unsupportedMediaType: () =>
    new ProblemError(415, 'unsupported-media-type', 'Unsupported media type', 'send the request body as JSON with "Content-Type: application/json"'),
  payloadTooLarge: (limit: number) => new ProblemError(413, 'payload-too-large', 'Request body too large', `the request body must not exceed ${limit} bytes`),
  unauthenticated: (detail: string) => new ProblemError(401, 'unauthenticated', 'Authentication required', detail),
  forbidden: (detail: string) => new ProblemError(403, 'forbidden', 'Not allowed', detail),
  policyViolation: (code: string, detail: string, errors: FieldProblem[] = []) =>
    new ProblemError(403, 'policy-violation', 'Team policy forbids this request', detail, errors.length ? { code, errors } : { code }),
  notFound: (detail: string) => new ProblemError(404, 'not-found', 'Not found', detail),
  conflict: (detail: string) => new ProblemError(409, 'conflict', 'Conflict', detail),
  rateLimited: (detail: string) => new ProblemError(429, 'rate-limited', 'Too many requests', detail),
  unavailable: (detail: string) => new ProblemError(503, 'unavailable', 'A dependency is unavailable', detail),
};

export function problemResponse(c: Context, error: ProblemError): Response {
  return c.body(JSON.stringify(error.toBody()), error.status, { 'Content-Type': 'application/problem+json' });
}
