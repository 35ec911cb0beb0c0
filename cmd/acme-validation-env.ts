/**
 * The worker's ACME challenge validation settings from the environment, validated at start-up like
 * cmd/config.ts: a bad value stops the worker with a message naming the variable.
 *
 *   CERTFLOW_ACME_HTTP01_PORT     port http-01 connects to (default 80)
 *   CERTFLOW_ACME_TLSALPN01_PORT  port tls-alpn-01 connects to, and https redirects of http-01 may name (default 443)
 *   CERTFLOW_ACME_DNS_RESOLVER    DNS server dns-01 asks: `ip`, `ip:port` or `[ipv6]:port` (default: the system's)
 */
import { DEFAULT_ACME_VALIDATION_CONFIG, type AcmeValidationConfig } from '../activities/acme-validation-config.js';
import { canonicalizeIp } from '../core/ip.js';
import { ConfigError } from './config.js';

export function loadAcmeValidationConfig(env: NodeJS.ProcessEnv = process.env): AcmeValidationConfig {
  const problems: string[] = [];
  const read = <T>(variable: string, parse: (text: string) => T, fallback: T): T => {
    const text = env[variable]?.trim();
    if (!text) return fallback;
    try {
      return parse(text);
    } catch (error) {
      problems.push(`${variable}: ${(error as Error).message}`);
      return fallback;
    }
  };
  const config: AcmeValidationConfig = {
    httpPort: read('CERTFLOW_ACME_HTTP01_PORT', parsePort, DEFAULT_ACME_VALIDATION_CONFIG.httpPort),
    tlsAlpnPort: read('CERTFLOW_ACME_TLSALPN01_PORT', parsePort, DEFAULT_ACME_VALIDATION_CONFIG.tlsAlpnPort),
    dnsResolver: read('CERTFLOW_ACME_DNS_RESOLVER', parseResolverAddress, DEFAULT_ACME_VALIDATION_CONFIG.dnsResolver),
    timeoutMs: DEFAULT_ACME_VALIDATION_CONFIG.timeoutMs,
  };
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.map((line) => `  ${line}`).join('\n')}`);
  return config;
}

function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new Error(`"${text}" is not a port number (1–65535)`);
  return port;
}

/** `ip`, `ip:port`, `[ipv6]:port` or a bare IPv6 address, in the form node:dns `setServers` takes. */
export function parseResolverAddress(text: string): string {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  const [host, port] = bracketed ? [bracketed[1]!, bracketed[2]] : text.split(':').length === 2 ? (text.split(':') as [string, string]) : [text, undefined];
  let address: string;
  try {
    address = canonicalizeIp(host);
  } catch {
    throw new Error(`"${text}" is not an IP address with an optional port ("127.0.0.1:5353", "[::1]:53"); the resolver is not looked up by name`);
  }
  if (port === undefined) return address;
  const number = parsePort(port);
  return address.includes(':') ? `[${address}]:${number}` : `${address}:${number}`;
}
