/**
 * The OAuth 2.0 device authorization grant (RFC 8628) against the API's OIDC issuer, for `certflow login --oidc`:
 * the issuer's discovery document, the device authorization request, polling the token endpoint (honouring
 * `interval`, `slow_down`, `authorization_pending`, `expired_token`, `access_denied`), and the refresh grant
 * a later command uses when the stored access token has expired. Every answer of the IdP is checked with zod.
 */
import { z } from 'zod';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/** RFC 8628 §3.2: the interval when the IdP names none; §3.5: slow_down adds 5 seconds. */
const DEFAULT_INTERVAL_SECONDS = 5;
const SLOW_DOWN_SECONDS = 5;
const REQUEST_TIMEOUT_MS = 10_000;

/** Why the flow ended without tokens: `denied` (the user refused), `expired` (nobody confirmed in time), `idp` (the IdP failed or answered wrongly). */
export class DeviceFlowError extends Error {
  constructor(
    readonly reason: 'denied' | 'expired' | 'idp',
    message: string,
  ) {
    super(message);
    this.name = 'DeviceFlowError';
  }
}

const httpsOrLoopback = z.url({ protocol: /^https?$/ }).refine((value) => value.startsWith('https:') || /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(:|\/)/.test(value), 'must be https (http only on loopback)');

export const apiOidcLoginSchema = z.object({ issuer: httpsOrLoopback, audience: z.string().min(1), clientId: z.string().min(1) });
export type ApiOidcLogin = z.infer<typeof apiOidcLoginSchema>;

const discoverySchema = z.object({
  issuer: z.string().min(1),
  token_endpoint: httpsOrLoopback,
  device_authorization_endpoint: httpsOrLoopback.optional(),
});
export interface IdpEndpoints {
  tokenEndpoint: string;
  deviceAuthorizationEndpoint: string;
}

const deviceAuthorizationSchema = z.object({
  device_code: z.string().min(1).max(4096),
  user_code: z.string().min(1).max(100),
  verification_uri: httpsOrLoopback,
  verification_uri_complete: httpsOrLoopback.optional(),
  expires_in: z.number().int().positive(),
  interval: z.number().int().positive().max(600).optional(),
});
export type DeviceAuthorization = z.infer<typeof deviceAuthorizationSchema>;

const tokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().refine((type) => type.toLowerCase() === 'bearer', 'token_type must be Bearer'),
  expires_in: z.number().int().positive().optional(),
  refresh_token: z.string().min(1).optional(),
});
export interface Tokens {
  accessToken: string;
  refreshToken: string | null;
  /** ISO time the access token expires (from expires_in), or null when the IdP did not say. */
  expiresAt: string | null;
}

const errorSchema = z.object({ error: z.string().min(1), error_description: z.string().optional() });

export interface DeviceFlowIo {
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

async function postForm(io: DeviceFlowIo, url: string, form: Record<string, string>): Promise<{ status: number; json: unknown }> {
  let response: Response;
  try {
    response = await io.fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new DeviceFlowError('idp', `cannot reach ${url}: ${(error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message}`);
  }
  const text = await response.text();
  try {
    return { status: response.status, json: JSON.parse(text) as unknown };
  } catch {
    throw new DeviceFlowError('idp', `${url} answered ${response.status} with something that is not JSON: ${text.slice(0, 200)}`);
  }
}

function describeIssues(what: string, error: z.ZodError): string {
  return `${what}: ${error.issues.map((issue) => `${issue.path.join('.') || '(document)'} ${issue.message}`).join('; ')}`;
}

/** The issuer's endpoints from its discovery document (which must name exactly this issuer and a device endpoint). */
export async function discoverIdp(io: DeviceFlowIo, issuer: string): Promise<IdpEndpoints> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let json: unknown;
  try {
    const response = await io.fetch(url, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!response.ok) throw new DeviceFlowError('idp', `the issuer's discovery document at ${url} answered ${response.status}`);
    json = await response.json();
  } catch (error) {
    if (error instanceof DeviceFlowError) throw error;
    throw new DeviceFlowError('idp', `cannot read the issuer's discovery document at ${url}: ${(error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message}`);
  }
  const parsed = discoverySchema.safeParse(json);
  if (!parsed.success) throw new DeviceFlowError('idp', describeIssues(`the discovery document at ${url} is not usable`, parsed.error));
  if (parsed.data.issuer !== issuer) throw new DeviceFlowError('idp', `the discovery document at ${url} names issuer ${parsed.data.issuer}, not ${issuer}`);
  if (!parsed.data.device_authorization_endpoint) {
    throw new DeviceFlowError('idp', `the issuer ${issuer} offers no device authorization endpoint (RFC 8628): ask its operators to enable the device flow for the CLI's client`);
  }
  return { tokenEndpoint: parsed.data.token_endpoint, deviceAuthorizationEndpoint: parsed.data.device_authorization_endpoint };
}

/** Starts the flow: the codes the user confirms at the verification URI. */
export async function requestDeviceAuthorization(io: DeviceFlowIo, endpoints: IdpEndpoints, clientId: string, scope: string): Promise<DeviceAuthorization> {
  const { status, json } = await postForm(io, endpoints.deviceAuthorizationEndpoint, { client_id: clientId, scope });
  if (status !== 200) {
    const error = errorSchema.safeParse(json);
    throw new DeviceFlowError('idp', `the device authorization request was refused (${status}${error.success ? ` ${error.data.error}: ${error.data.error_description ?? ''}` : ''})`);
  }
  const parsed = deviceAuthorizationSchema.safeParse(json);
  if (!parsed.success) throw new DeviceFlowError('idp', describeIssues('the device authorization answer is not usable', parsed.error));
  return parsed.data;
}

function tokensOf(io: DeviceFlowIo, json: unknown, what: string): Tokens {
  const parsed = tokenSchema.safeParse(json);
  if (!parsed.success) throw new DeviceFlowError('idp', describeIssues(`the token answer to ${what} is not usable`, parsed.error));
  const { access_token, refresh_token, expires_in } = parsed.data;
  return { accessToken: access_token, refreshToken: refresh_token ?? null, expiresAt: expires_in ? new Date(io.now().getTime() + expires_in * 1000).toISOString() : null };
}

/** Polls the token endpoint until the user confirmed, refused, or the device code expired. */
export async function pollForTokens(io: DeviceFlowIo, endpoints: IdpEndpoints, clientId: string, authorization: DeviceAuthorization): Promise<Tokens> {
  const deadline = io.now().getTime() + authorization.expires_in * 1000;
  let intervalSeconds = authorization.interval ?? DEFAULT_INTERVAL_SECONDS;
  for (;;) {
    await io.sleep(intervalSeconds * 1000);
    if (io.now().getTime() >= deadline) throw new DeviceFlowError('expired', `nobody confirmed the code within ${authorization.expires_in} s; run the login again`);
    const { status, json } = await postForm(io, endpoints.tokenEndpoint, { grant_type: DEVICE_CODE_GRANT, device_code: authorization.device_code, client_id: clientId });
    if (status === 200) return tokensOf(io, json, 'the device code');
    const error = errorSchema.safeParse(json);
    if (!error.success) throw new DeviceFlowError('idp', `the token endpoint answered ${status} without an OAuth error`);
    switch (error.data.error) {
      case 'authorization_pending':
        continue;
      case 'slow_down':
        intervalSeconds += SLOW_DOWN_SECONDS;
        continue;
      case 'access_denied':
        throw new DeviceFlowError('denied', `the login was refused at the identity provider${error.data.error_description ? ` (${error.data.error_description})` : ''}`);
      case 'expired_token':
        throw new DeviceFlowError('expired', 'the device code expired before the login was confirmed; run the login again');
      default:
        throw new DeviceFlowError('idp', `the token endpoint refused the device code: ${error.data.error}${error.data.error_description ? ` (${error.data.error_description})` : ''}`);
    }
  }
}

/** The refresh grant (RFC 6749 §6); a refused refresh token is `denied`. */
export async function refreshTokens(io: DeviceFlowIo, tokenEndpoint: string, clientId: string, refreshToken: string): Promise<Tokens> {
  const { status, json } = await postForm(io, tokenEndpoint, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
  if (status !== 200) {
    const error = errorSchema.safeParse(json);
    throw new DeviceFlowError(error.success && error.data.error === 'invalid_grant' ? 'denied' : 'idp', `the refresh token was refused (${status}${error.success ? ` ${error.data.error}` : ''})`);
  }
  const tokens = tokensOf(io, json, 'the refresh token');
  // RFC 6749 §6: the IdP may keep the old refresh token.
  return { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken };
}
