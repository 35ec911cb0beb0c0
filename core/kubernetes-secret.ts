/**
 * The `kubernetes` destination's decisions, pure: the Secret a version becomes, whether a Secret
 * found in the cluster is this certificate's, what a delivery still has to do (create, replace,
 * restart workloads, nothing), and the patch that restarts a workload the way `kubectl rollout
 * restart` does. activities/deliver-to-kubernetes.ts carries them out.
 */
import { encodeBase64url } from './base64url.js';
import type { RolloutRestartKind } from './types.js';

/** Label naming the certificate a Secret belongs to: a Secret without it (or with another id) is never written. */
export const CERTIFICATE_LABEL = 'certflow.io/certificate-id';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const VERSION_ANNOTATION = 'certflow.io/version-id';
export const SERIAL_ANNOTATION = 'certflow.io/serial';
export const NOT_AFTER_ANNOTATION = 'certflow.io/not-after';
/** The version whose content the `rolloutRestart` workloads were last restarted for. */
export const RESTARTED_FOR_ANNOTATION = 'certflow.io/restarted-for-version';
/** What `kubectl rollout restart` sets on the pod template. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/** RFC 1123 label: a namespace. */
export const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** RFC 1123 subdomain: Secret and workload names (at most 253 characters). */
export const DNS_SUBDOMAIN = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

export type SecretData = Record<'tls.crt' | 'tls.key' | 'ca.crt', string>;

/** The parts of a Secret read back from the API server that the decisions look at. */
export interface ObservedSecret {
  resourceVersion: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  type: string;
  /** base64 values, as the API server returns them. */
  data: Record<string, string>;
}

export interface SecretVersion {
  certificateId: string;
  versionId: string;
  serial: string;
  notAfter: string;
  /** PEM text of each key. */
  data: SecretData;
}

/** The Secret a version is delivered as (its `metadata.resourceVersion` is added for a replace). */
export function desiredSecret(name: string, namespace: string, version: SecretVersion, restartedFor: string | null) {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      labels: { [CERTIFICATE_LABEL]: version.certificateId, [MANAGED_BY_LABEL]: 'certflow' },
      annotations: {
        [VERSION_ANNOTATION]: version.versionId,
        [SERIAL_ANNOTATION]: version.serial,
        [NOT_AFTER_ANNOTATION]: version.notAfter,
        ...(restartedFor ? { [RESTARTED_FOR_ANNOTATION]: restartedFor } : {}),
      },
    },
    type: 'kubernetes.io/tls',
    data: encodeData(version.data),
  };
}

export function encodeData(data: SecretData): Record<string, string> {
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, base64(value)]));
}

/** Standard padded base64 of UTF-8 text (what Secret `data` holds). */
function base64(text: string): string {
  const url = encodeBase64url(new TextEncoder().encode(text));
  return url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (url.length % 4)) % 4);
}

export type SecretStep =
  | { kind: 'refuse'; reason: string }
  | { kind: 'create' }
  | { kind: 'replace'; resourceVersion: string }
  | { kind: 'restart'; resourceVersion: string }
  | { kind: 'done' };

/**
 * The next step of delivering `version` to a Secret found as `observed` (null: absent). A Secret
 * that does not carry this certificate's label is someone else's: refused, never overwritten. The
 * content is compared key by key, so a re-delivery of what is there writes nothing; workloads are
 * restarted once per version the Secret changes to (the Secret records it after the restarts).
 */
export function nextSecretStep(observed: ObservedSecret | null, version: SecretVersion, restarts: number): SecretStep {
  if (!observed) return { kind: 'create' };
  const owner = observed.labels[CERTIFICATE_LABEL];
  if (owner !== version.certificateId) {
    return {
      kind: 'refuse',
      reason: owner
        ? `it belongs to certificate ${owner}, not ${version.certificateId}`
        : `it was not created by Certflow for ${version.certificateId} (no ${CERTIFICATE_LABEL} label)`,
    };
  }
  if (observed.type !== 'kubernetes.io/tls') return { kind: 'refuse', reason: `its type is ${observed.type}, not kubernetes.io/tls` };
  const wanted = encodeData(version.data);
  const same = Object.keys(wanted).length === Object.keys(observed.data).length && Object.entries(wanted).every(([key, value]) => observed.data[key] === value);
  if (!same) return { kind: 'replace', resourceVersion: observed.resourceVersion };
  if (restarts > 0 && observed.annotations[RESTARTED_FOR_ANNOTATION] !== version.versionId) return { kind: 'restart', resourceVersion: observed.resourceVersion };
  return { kind: 'done' };
}

/** `kubectl rollout restart`'s timestamp: Go's time.RFC3339 (seconds, `Z` in UTC). */
export function restartedAt(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The strategic merge patch `kubectl rollout restart` sends. */
export function rolloutRestartPatch(now: Date) {
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt(now) } } } } };
}

/**
 * Whether a workload's pod template uses the Secret (a volume, a projected volume, envFrom or an env
 * secretKeyRef): only such a workload is restarted for it, so a team sharing a namespace cannot restart
 * another team's workloads. `workload` is the API server's object, read loosely.
 */
export function podTemplateUsesSecret(workload: unknown, secretName: string): boolean {
  type Named = { name?: unknown } | undefined;
  type Container = { envFrom?: Array<{ secretRef?: Named }>; env?: Array<{ valueFrom?: { secretKeyRef?: Named } }> };
  type PodSpec = {
    volumes?: Array<{ secret?: { secretName?: unknown }; projected?: { sources?: Array<{ secret?: Named }> } }>;
    containers?: Container[];
    initContainers?: Container[];
    ephemeralContainers?: Container[];
  };
  const pod = (workload as { spec?: { template?: { spec?: PodSpec } } } | null)?.spec?.template?.spec;
  if (!pod) return false;
  const array = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);
  const inVolumes = array(pod.volumes).some(
    (volume) => volume?.secret?.secretName === secretName || array(volume?.projected?.sources).some((source) => source?.secret?.name === secretName),
  );
  const inContainer = (container: Container) =>
    array(container?.envFrom).some((from) => from?.secretRef?.name === secretName) || array(container?.env).some((env) => env?.valueFrom?.secretKeyRef?.name === secretName);
  return inVolumes || [...array(pod.containers), ...array(pod.initContainers), ...array(pod.ephemeralContainers)].some(inContainer);
}

const WORKLOAD_RESOURCES: Record<RolloutRestartKind, string> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };

export function workloadPath(namespace: string, kind: RolloutRestartKind, name: string): string {
  return `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${WORKLOAD_RESOURCES[kind]}/${encodeURIComponent(name)}`;
}

export function secretPath(namespace: string, name?: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

/** Reads the fields the decisions need from an API server's Secret object; null when it is not one. */
export function observedSecret(object: unknown): ObservedSecret | null {
  if (typeof object !== 'object' || object === null) return null;
  const secret = object as { metadata?: { resourceVersion?: unknown; labels?: unknown; annotations?: unknown }; type?: unknown; data?: unknown };
  const resourceVersion = secret.metadata?.resourceVersion;
  if (typeof resourceVersion !== 'string') return null;
  return {
    resourceVersion,
    labels: stringRecord(secret.metadata?.labels),
    annotations: stringRecord(secret.metadata?.annotations),
    type: typeof secret.type === 'string' ? secret.type : 'Opaque',
    data: stringRecord(secret.data),
  };
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
