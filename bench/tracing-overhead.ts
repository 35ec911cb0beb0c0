/**
 * `npx tsx bench/tracing-overhead.ts`: what tracing costs, in CPU microseconds per operation
 * (process.cpuUsage, same run, so the shared machine's noise mostly cancels in the ratios).
 *
 * 1. Tracing off: the only code on a traced path that still runs is the client-span wrapper around
 *    webhook posts and TLS probes (a no-op span without a provider); compared with calling directly.
 * 2. Tracing on: an HTTP request through the request-span middleware of a real NodeTracerProvider
 *    (spans go to a processor that drops them) against the same Hono app without it.
 */
import { Hono } from 'hono';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { inClientSpan } from '../activities/client-span.js';
import { traceRequests } from '../api/request-tracing.js';
import { trace, type Tracer } from '@opentelemetry/api';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

const ITERATIONS = 20_000;

async function cpuMicrosPerOp(label: string, op: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 2_000; i++) await op(); // warm-up
  const start = process.cpuUsage();
  for (let i = 0; i < ITERATIONS; i++) await op();
  const used = process.cpuUsage(start);
  const micros = (used.user + used.system) / ITERATIONS;
  console.log(`${label.padEnd(58)} ${micros.toFixed(2)} µs CPU/op`);
  return micros;
}

function app(tracer: Tracer | null) {
  const hono = new Hono();
  if (tracer) hono.use('*', traceRequests(tracer));
  hono.get('/v1/certificates/:id', (c) => c.json({ id: c.req.param('id'), state: 'active' }));
  return hono;
}

const dropping: SpanProcessor = {
  onStart: (_span: Span) => undefined,
  onEnd: (_span: ReadableSpan) => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

const work = async () => JSON.parse('{"serial":"4f3a9c0d11e2b7aa"}') as unknown;
console.log(`${ITERATIONS} operations each, node ${process.version}`);
console.log('-- tracing off (no provider installed)');
const direct = await cpuMicrosPerOp('outgoing call, direct', work);
const wrapped = await cpuMicrosPerOp('outgoing call, in a client span (no-op)', () => inClientSpan('tls.probe', { 'server.port': 443 }, work));
const plain = app(null);
const offRequest = await cpuMicrosPerOp('HTTP request, app as built with tracing off', async () => plain.request('/v1/certificates/crt_abc'));

console.log('-- tracing on (NodeTracerProvider, spans dropped)');
// As cmd/tracing.ts installs it (AsyncLocalStorage context, W3C propagation), with spans dropped instead of exported.
const provider = new NodeTracerProvider({ spanProcessors: [dropping] });
provider.register();
const traced = app(trace.getTracer('certflow'));
const onRequest = await cpuMicrosPerOp('HTTP request, with the request-span middleware', async () => traced.request('/v1/certificates/crt_abc'));
const wrappedOn = await cpuMicrosPerOp('outgoing call, in a client span (recording)', () => inClientSpan('tls.probe', { 'server.port': 443 }, work));
await provider.shutdown();

console.log('-- summary');
console.log(`off: no-op client span adds ${(wrapped - direct).toFixed(2)} µs CPU per webhook post / TLS probe`);
console.log(`on: request span adds ${(onRequest - offRequest).toFixed(2)} µs CPU per request (${((onRequest / offRequest - 1) * 100).toFixed(0)} % of this trivial handler)`);
console.log(`on: a recording client span adds ${(wrappedOn - direct).toFixed(2)} µs CPU per outgoing call`);
