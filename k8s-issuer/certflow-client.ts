/**
 * The issuer controller's side of Certflow's REST API, as a team's requester: request a certificate
 * for a CSR (with an Idempotency-Key, so a retry never makes a second one), read it, fetch its chain,
 * list the team's `kubernetes` certificates. Answers are checked with zod; refusals come back as
 * `CertflowProblem` with the problem+json body, everything else (network, 5xx) throws to be retried.
 */
import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';

/** The whole call, connect to last byte: a URL that drips its answer cannot hold an issuer's queue for longer. */
const REQUEST_DEADLINE_MS = 15_000;
/** More than a page of 200 certificate views; anything bigger is not Certflow. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export class CertflowProblem extends Error {
  constructor(
    readonly status: number,
    readonly body: { status: number; title?: unknown; detail?: unknown; errors?: unknown },
  ) {
    super(typeof body.detail === 'string' ? body.detail : `HTTP ${status}`);
    this.name = 'CertflowProblem';
  }
}

const createdSchema = z.object({ id: z.string(), state: z.string(), generation: z.number().int().optional() });

const kubernetesRefSchema = z.object({ cluster: z.string(), namespace: z.string(), name: z.string(), certificateRequest: z.string(), uid: z.string(), revision: z.number().int().optional() });

export const certificateViewSchema = z.object({
  id: z.string(),
  state: z.string(),
  source: z.string().optional(),
  kubernetes: kubernetesRefSchema.nullable().optional(),
  currentVersion: z.object({ serial: z.string(), generation: z.number().int() }).nullable(),
  lastError: z.object({ message: z.string() }).nullable().optional(),
  renewalRequestedAt: z.string().nullable().optional(),
  renewalRequestReason: z.string().nullable().optional(),
});
export type CertificateView = z.infer<typeof certificateViewSchema>;

const pageSchema = z.object({ items: z.array(certificateViewSchema), nextCursor: z.string().nullable() });

export interface CreateKubernetesCertificate {
  team: string;
  csr: string;
  /** Omitted: the team's defaultValidity (else the platform's). */
  validity?: string | number;
  profile: string;
  kubernetes: z.infer<typeof kubernetesRefSchema>;
}

export class CertflowClient {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    /** PEM of the CA of the API's TLS certificate (https), else the system's. */
    private readonly ca?: string,
  ) {}

  async createCertificate(body: CreateKubernetesCertificate, idempotencyKey: string): Promise<z.infer<typeof createdSchema>> {
    return createdSchema.parse(await this.json('POST', '/v1/certificates', body, { 'Idempotency-Key': idempotencyKey }));
  }

  async certificate(id: string): Promise<CertificateView> {
    return certificateViewSchema.parse(await this.json('GET', `/v1/certificates/${encodeURIComponent(id)}`));
  }

  /** The leaf and its chain up to (not including) the root. */
  async chainPem(id: string): Promise<string> {
    return (await this.call('GET', `/v1/certificates/${encodeURIComponent(id)}/certificate.pem`)).text;
  }

  async rootsPem(): Promise<string> {
    return (await this.call('GET', '/pki/roots.pem')).text;
  }

  /** One page of the team's `kubernetes` certificates; the token's team is the only one it may list. */
  async kubernetesCertificates(team: string, cursor: string | null): Promise<z.infer<typeof pageSchema>> {
    const query = new URLSearchParams({ team, source: 'kubernetes', limit: '200', ...(cursor ? { cursor } : {}) });
    return pageSchema.parse(await this.json('GET', `/v1/certificates?${query.toString()}`));
  }

  /** Whether the token opens the team's certificates: what an issuer's readiness says. */
  async checkAccess(team: string): Promise<void> {
    await this.json('GET', `/v1/certificates?${new URLSearchParams({ team, limit: '1' }).toString()}`);
  }

  private async json(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<unknown> {
    const { text } = await this.call(method, path, body, headers);
    return JSON.parse(text) as unknown;
  }

  private async call(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<{ status: number; text: string }> {
    const url = new URL(path, this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, Accept: 'application/json, application/problem+json, */*', ...extraHeaders };
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    const { status, contentType, text } = await send(url, { method, headers, ...(this.ca ? { ca: this.ca } : {}) }, payload);
    if (status >= 200 && status < 300) return { status, text };
    // Only a problem+json's own fields reach a status message: never an arbitrary body (no read-back through the controller).
    const problem = problemOf(status, contentType, text);
    if (status >= 400 && status < 500) throw new CertflowProblem(status, problem);
    throw new Error(`${method} ${url.pathname} answered ${status}${typeof problem.detail === 'string' ? `: ${problem.detail}` : ''}`);
  }
}

const problemSchema = z.object({ title: z.string().max(300).optional(), detail: z.string().max(1000).optional(), errors: z.array(z.object({ field: z.string().max(200).optional(), message: z.string().max(500) })).max(20).optional() });

function problemOf(status: number, contentType: string, text: string): CertflowProblem['body'] {
  if (!contentType.toLowerCase().startsWith('application/problem+json')) return { status };
  try {
    const parsed = problemSchema.safeParse(JSON.parse(text));
    return parsed.success ? { status, ...parsed.data } : { status };
  } catch {
    return { status };
  }
}

function send(url: URL, options: https.RequestOptions, payload: string | undefined): Promise<{ status: number; contentType: string; text: string }> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const signal = AbortSignal.timeout(REQUEST_DEADLINE_MS);
    const request = transport.request(url, { ...options, signal }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) request.destroy(new Error(`${url.origin} answered more than ${MAX_RESPONSE_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', (error) => reject(signal.aborted ? new Error(`${url.origin} did not answer within ${REQUEST_DEADLINE_MS} ms`) : error));
    request.end(payload);
  });
}
