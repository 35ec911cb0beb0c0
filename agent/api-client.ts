/** The agent's side of the `/v1/agent` endpoints: authenticated by its own token, answers checked with zod. */
import { assignmentsSchema, type Assignments } from '../contracts/agent-wire.js';

const REQUEST_TIMEOUT_MS = 30_000;

export class AgentApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'AgentApiError';
  }
}

export type DeploymentOutcome = { ok: true; serial: string } | { ok: false; error: string };

export class AgentApiClient {
  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async assignments(): Promise<Assignments> {
    const body = await this.call('GET', '/v1/agent/assignments');
    const parsed = assignmentsSchema.safeParse(body);
    if (!parsed.success) throw new AgentApiError(200, `the API answered assignments in an unexpected shape: ${parsed.error.message}`);
    return parsed.data;
  }

  async submitCsr(request: { certificateId: string; generation: number; csr: string }): Promise<void> {
    await this.call('POST', '/v1/agent/csr', request);
  }

  async report(deliveryId: number, outcome: DeploymentOutcome): Promise<void> {
    await this.call('POST', `/v1/agent/deployments/${deliveryId}/report`, outcome);
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}`, Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await this.fetchImpl(`${this.apiUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok) throw new AgentApiError(response.status, `${method} ${path} answered ${response.status}: ${problemDetail(text)}`);
    try {
      return text ? (JSON.parse(text) as unknown) : null;
    } catch {
      throw new AgentApiError(response.status, `${method} ${path} answered something that is not JSON`);
    }
  }
}

/** The `detail` of a problem+json answer, or the start of whatever else came back. */
export function problemDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { detail?: unknown };
    if (typeof body.detail === 'string') return body.detail;
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 300);
}
