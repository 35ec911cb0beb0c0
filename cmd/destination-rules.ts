/**
 * The platform's destination rules (core/destination-hosts.ts) from the configuration: its own
 * services (Postgres, Temporal and its UI, the API, the metrics listeners, the SMTP relay, the OTLP
 * collector), which no webhook or verify endpoint may reach,
 * and the operator's exceptions and extra denied ranges.
 */
import type { PlatformDestinationRules, PlatformService } from '../core/destination-hosts.js';
import type { Config } from './config.js';

/** What `npm run dev` changes when the operator did not say otherwise. */
export interface DevDefaults {
  allowPrivateDestinations?: readonly string[];
}

export function platformDestinationRules(
  config: Omit<Config, 'kek' | 'kekPrevious'> & { databaseUrl: string; temporalAddress: string },
  defaults: { allowPrivate?: readonly string[] | undefined } = {},
): PlatformDestinationRules {
  const database = new URL(config.databaseUrl);
  const services: PlatformService[] = [
    { name: 'Postgres', host: database.hostname || '127.0.0.1', port: Number(database.port || 5432) },
    { name: 'Temporal server', ...hostAndPort(config.temporalAddress, 7233) },
    { name: 'Temporal UI', host: '127.0.0.1', port: config.temporalUiPort },
    { name: 'Temporal UI', ...urlHostAndPort(config.temporalUiUrl) },
    { name: 'API', host: config.host, port: config.port },
    // An API bound to every address is reached at its public name too (the wildcard matches only itself).
    ...(WILDCARD_HOSTS.has(config.host) ? [{ name: 'API', host: new URL(config.publicUrl).hostname.replace(/^\[|\]$/g, ''), port: config.port }] : []),
    { name: 'worker metrics', host: config.metrics.workerHost, port: config.metrics.workerPort },
    ...(config.metrics.temporalSdkAddress ? [{ name: 'Temporal SDK metrics', ...hostAndPort(config.metrics.temporalSdkAddress, 9465) }] : []),
    ...(config.notifications.smtp ? [{ name: 'SMTP relay', ...smtpHostAndPort(config.notifications.smtp.url) }] : []),
    ...(config.otlpEndpoint ? [{ name: 'OTLP collector', ...urlHostAndPort(config.otlpEndpoint) }] : []),
  ];
  return {
    services: services.filter((service, index) => service.port > 0 && services.findIndex((other) => other.host === service.host && other.port === service.port) === index),
    allowedExceptions: config.allowPrivateDestinations ?? [...(defaults.allowPrivate ?? [])],
    extraDenied: config.deniedDestinations,
  };
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/** The host and port a URL names (default port of its scheme when none is given). */
function urlHostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)) };
}

/** The relay of an smtp:// (default port 25) or smtps:// (465) URL. */
function smtpHostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || (parsed.protocol === 'smtps:' ? 465 : 25)) };
}

/** `host:port`, `[v6]:port` or a bare host. */
function hostAndPort(address: string, defaultPort: number): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(address.includes(']') || address.split(':').length === 2 ? address : `[${address}]`);
  return { host: match?.[1] || '127.0.0.1', port: Number(match?.[2] ?? defaultPort) };
}
