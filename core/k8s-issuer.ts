/**
 * The decisions of the cert-manager external issuer (`certflow k8s-issuer`), pure: what a
 * CertificateRequest asks for, whether it is Certflow's to sign and in which phase it is, and the
 * conditions written back. The controller (k8s-issuer/) gathers the inputs and carries them out.
 */
import type { Profile } from './types.js';

export const CERTFLOW_GROUP = 'certflow.io';
export const ISSUER_KINDS = ['CertflowIssuer', 'CertflowClusterIssuer'] as const;
export type IssuerKind = (typeof ISSUER_KINDS)[number];

/** The Certflow certificate a CertificateRequest became, kept on the request across controller restarts. */
export const CERTIFICATE_ID_ANNOTATION = 'certflow.io/certificate-id';
/** The Certflow generation a CertificateRequest became (a renewal of its Certificate's certificate is generation 2 and on). */
export const GENERATION_ANNOTATION = 'certflow.io/generation';
/** On a cert-manager Certificate: the Certflow renewal request (its time) already passed on as `Issuing`. */
export const RENEWAL_REQUESTED_ANNOTATION = 'certflow.io/renewal-requested-at';
/** cert-manager's own annotations on the requests it makes for a Certificate. */
export const CERTIFICATE_NAME_ANNOTATION = 'cert-manager.io/certificate-name';
export const CERTIFICATE_REVISION_ANNOTATION = 'cert-manager.io/certificate-revision';

/** The label a Secret must carry for the controller to send its value to Certflow as an issuer's token. */
export const ISSUER_TOKEN_LABEL = 'certflow.io/issuer-token';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An issuer URL as compared with the allow-list: origin and path, no trailing slash, no query. */
export function normalizedApiUrl(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.username || parsed.password || parsed.search || parsed.hash) return null;
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** Plain http only to the machine itself (tests, a port-forward); a token never crosses a network unencrypted. */
export function isAllowedScheme(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

/** Why the controller refuses to send an issuer's token to `url`, or null: it must be one of the operator's Certflow API URLs. */
export function issuerUrlRefusal(url: string, allowedUrls: readonly string[]): string | null {
  const normalized = normalizedApiUrl(url);
  if (!normalized) return `spec.url "${url}" is not a plain http(s) URL`;
  if (!isAllowedScheme(new URL(normalized))) return `spec.url "${url}" is not https (plain http only to loopback)`;
  if (!allowedUrls.some((allowed) => normalizedApiUrl(allowed) === normalized)) {
    return `spec.url "${url}" is not one of the Certflow API URLs this controller may send tokens to (CERTFLOW_K8S_ALLOWED_URLS)`;
  }
  return null;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface CertificateRequestObject {
  metadata: { name: string; namespace: string; uid: string; annotations?: Record<string, string>; resourceVersion?: string };
  spec: {
    request: string;
    issuerRef: { name: string; kind?: string; group?: string };
    duration?: string;
    usages?: string[];
    isCA?: boolean;
  };
  status?: { conditions?: Condition[]; certificate?: string; ca?: string; failureTime?: string };
}

export type RequestPhase =
  /** Another issuer's request. */
  | { kind: 'not-ours' }
  /** Ready, Failed or Denied already: nothing more to do. */
  | { kind: 'finished' }
  /** Denied by an approver of cert-manager: marked failed, never signed. */
  | { kind: 'denied'; message: string }
  /** Not approved yet: nothing is sent to Certflow. */
  | { kind: 'unapproved' }
  | { kind: 'approved'; issuer: { kind: IssuerKind; name: string } };

export function findCondition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}

export function requestPhase(request: CertificateRequestObject): RequestPhase {
  const { issuerRef } = request.spec;
  const kind = ISSUER_KINDS.find((k) => k === issuerRef.kind);
  if (issuerRef.group !== CERTFLOW_GROUP || !kind) return { kind: 'not-ours' };
  const conditions = request.status?.conditions;
  const ready = findCondition(conditions, 'Ready');
  if (ready?.status === 'True' || (ready?.status === 'False' && (ready.reason === 'Failed' || ready.reason === 'Denied'))) return { kind: 'finished' };
  const denied = findCondition(conditions, 'Denied');
  if (denied?.status === 'True') return { kind: 'denied', message: denied.message ?? 'denied' };
  if (findCondition(conditions, 'Approved')?.status !== 'True') return { kind: 'unapproved' };
  return { kind: 'approved', issuer: { kind, name: issuerRef.name } };
}

/**
 * The conditions with `next` set: the others kept, `lastTransitionTime` moved only when the status
 * changes (the Kubernetes convention), so rewriting the same condition changes nothing.
 */
export function withCondition(conditions: Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>, now: Date): Condition[] {
  const previous = findCondition(conditions, next.type);
  const lastTransitionTime = previous && previous.status === next.status && previous.lastTransitionTime ? previous.lastTransitionTime : now.toISOString();
  const updated: Condition = { ...next, lastTransitionTime };
  return [...(conditions ?? []).filter((condition) => condition.type !== next.type), updated];
}

/** Certflow's profile for cert-manager's key usages: client and server auth is `mtls`, client auth alone `tls-client`. */
export function profileFor(usages: string[] | undefined): Profile {
  const client = usages?.includes('client auth') ?? false;
  const server = usages === undefined || usages.length === 0 || usages.includes('server auth');
  if (client && server) return 'mtls';
  return client ? 'tls-client' : 'tls-server';
}

/** A Go duration as cert-manager writes it (`2160h0m0s`, `1h30m`, `90s`) in whole seconds; null if it is not one. */
export function goDurationSeconds(text: string): number | null {
  const match = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?$/.exec(text);
  if (!match || text === '' || match.slice(1).every((part) => part === undefined)) return null;
  const [hours = '0', minutes = '0', seconds = '0'] = match.slice(1).map((part) => part ?? '0');
  return Math.round(Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds));
}

/** Splits a PEM bundle into its certificates, in order. */
export function pemCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((block) => `${block}\n`) ?? [];
}

/**
 * A problem+json answer as the message of a Failed condition: its detail and, per field, what is
 * wrong (a policy refusal lists every name it refused and why).
 */
export function problemMessage(problem: { status: number; title?: unknown; detail?: unknown; errors?: unknown }): string {
  const detail = typeof problem.detail === 'string' ? problem.detail : typeof problem.title === 'string' ? problem.title : `HTTP ${problem.status}`;
  const errors = Array.isArray(problem.errors)
    ? problem.errors
        .map((error: unknown) => {
          const { field, message } = (error ?? {}) as { field?: unknown; message?: unknown };
          return typeof message === 'string' ? (typeof field === 'string' ? `${field}: ${message}` : message) : null;
        })
        .filter((line): line is string => line !== null)
    : [];
  const message = errors.length > 0 ? `${detail} (${errors.join('; ')})` : detail;
  return `Certflow refused the request (${problem.status}): ${message}`.slice(0, 1000);
}

/**
 * The cert-manager Certificate a request was made for, from cert-manager's annotations: its name and
 * revision (then a later request for it renews the same Certflow certificate); without them, the
 * request stands alone under its own name.
 */
export function certificateOfRequest(request: Pick<CertificateRequestObject, 'metadata'>): { name: string; revision?: number } {
  const annotations = request.metadata.annotations ?? {};
  const name = annotations[CERTIFICATE_NAME_ANNOTATION];
  const revisionText = annotations[CERTIFICATE_REVISION_ANNOTATION];
  const revision = revisionText !== undefined && /^[1-9]\d{0,9}$/.test(revisionText) ? Number(revisionText) : NaN;
  if (!name) return { name: request.metadata.name };
  return Number.isSafeInteger(revision) && revision <= 2_147_483_647 ? { name, revision } : { name };
}
