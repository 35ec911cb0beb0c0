/**
 * The few Kubernetes API calls a `kubernetes` destination makes, over plain HTTPS: the server's
 * certificate must chain to the registered cluster's CA bundle, the connection goes only to the
 * addresses the destination guard checked (pinnedLookup), and the service-account token is the
 * bearer. No client library: five JSON requests do not need one.
 */
import { request } from 'node:https';
import { isIP } from 'node:net';
import { pinnedLookup } from './destination-guard.js';

export interface ClusterEndpoint {
  /** The registered API URL (https, maybe with a path prefix). */
  url: URL;
  caPem: string;
  token: string;
  /** Checked addresses of the URL's host (DestinationGuard.admitRegisteredCluster). */
  addresses: string[];
}

export interface KubeResponse {
  status: number;
  body: unknown;
}

export const KUBE_TIMEOUT_MS = 15_000;
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** One request; resolves with any HTTP status (callers decide), rejects on network errors and timeouts. */
export function kubeRequest(endpoint: ClusterEndpoint, method: 'GET' | 'POST' | 'PUT' | 'PATCH', path: string, body?: unknown, contentType = 'application/json'): Promise<KubeResponse> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const base = endpoint.url.pathname.replace(/\/+$/, '');
  const host = endpoint.url.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        method,
        protocol: 'https:',
        hostname: host,
        port: endpoint.url.port ? Number(endpoint.url.port) : 443,
        path: `${base}${path}`,
        ca: endpoint.caPem,
        ...(isIP(host) ? {} : { servername: host }),
        lookup: pinnedLookup(endpoint.addresses),
        agent: false,
        signal: AbortSignal.timeout(KUBE_TIMEOUT_MS),
        headers: {
          Authorization: `Bearer ${endpoint.token}`,
          Accept: 'application/json',
          ...(text === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(text)) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let length = 0;
        response.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (length > MAX_RESPONSE_BYTES) {
            response.destroy(new Error(`the API server's answer exceeds ${MAX_RESPONSE_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.once('error', reject);
        response.once('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = raw;
          try {
            parsed = raw === '' ? null : JSON.parse(raw);
          } catch {
            // not JSON (a proxy's error page): kept as text for the message
          }
          resolve({ status: response.statusCode ?? 0, body: parsed });
        });
      },
    );
    outgoing.once('error', reject);
    outgoing.end(text);
  });
}

/** The message of a Kubernetes `Status` answer (or the start of whatever else came back). */
export function statusMessage(response: KubeResponse): string {
  const body = response.body as { kind?: unknown; message?: unknown } | null;
  if (body && typeof body === 'object' && typeof body.message === 'string') return body.message.slice(0, 300);
  if (typeof response.body === 'string') return response.body.replace(/[^\x20-\x7e]+/g, ' ').slice(0, 200);
  return `HTTP ${response.status}`;
}
