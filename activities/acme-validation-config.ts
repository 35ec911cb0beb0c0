/** Where ACME challenge validation connects and whom it asks (cmd/acme-validation-env.ts reads it from the environment). */
export interface AcmeValidationConfig {
  /** http-01 port: 80 (RFC 8555 §8.3); another only for tests and development. */
  httpPort: number;
  /** tls-alpn-01 port: 443 (RFC 8737 §3); also the only port an http-01 redirect to https may name. */
  tlsAlpnPort: number;
  /** `ip`, `ip:port` or `[ipv6]:port` of the DNS server dns-01 asks; null: the system's resolvers. */
  dnsResolver: string | null;
  /** For one validation, redirects and DNS retries included. */
  timeoutMs: number;
}

export const DEFAULT_ACME_VALIDATION_CONFIG: AcmeValidationConfig = { httpPort: 80, tlsAlpnPort: 443, dnsResolver: null, timeoutMs: 10_000 };
