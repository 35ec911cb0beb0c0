/**
 * The dashboard reads and acts through the API itself, in-process, with the session's token: the same
 * routes, validation, authorization and audit as any API client, and nothing re-implemented here.
 */
import { z } from 'zod';

/** Answers an API request in-process (the app's `request`). */
export type ApiFetch = (path: string, init: RequestInit) => Response | Promise<Response>;

export type ApiAnswer<T> = { ok: true; status: number; body: T } | { ok: false; status: number; problem: { title: string; detail: string } };

const problemShape = z.looseObject({ title: z.string().optional(), detail: z.string().optional() });

export class UiApi {
  constructor(
    private readonly fetch: ApiFetch,
    private readonly bearer: string,
  ) {}

  get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<ApiAnswer<T>> {
    const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
    const search = params.toString();
    return this.call<T>('GET', search ? `${path}?${search}` : path);
  }

  post<T>(path: string, body: unknown): Promise<ApiAnswer<T>> {
    return this.call<T>('POST', path, body);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.bearer}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const response = await this.fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (response.ok) return { ok: true, status: response.status, body: json as T };
    const problem = problemShape.safeParse(json);
    return {
      ok: false,
      status: response.status,
      problem: { title: (problem.success && problem.data.title) || `HTTP ${response.status}`, detail: (problem.success && problem.data.detail) || text.slice(0, 500) },
    };
  }
}
