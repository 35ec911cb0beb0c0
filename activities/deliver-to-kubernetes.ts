/**
 * `kubernetes` destinations: the version becomes a `kubernetes.io/tls` Secret in a namespace of a
 * registered cluster (created, or replaced under its resourceVersion), and the `rolloutRestart`
 * workloads are restarted the way `kubectl rollout restart` does — only those whose pod template
 * uses the Secret. Decisions are in
 * core/kubernetes-secret.ts; a Secret that is not this certificate's is never written. Idempotent:
 * re-delivering what the Secret holds writes nothing, and workloads are restarted once per change
 * (the Secret records the version they were restarted for, after the restarts).
 */
import { ApplicationFailure } from '@temporalio/common';
import { openClusterToken } from '../ca/destination-secrets.js';
import { BUSINESS_ERROR_TYPES } from '../core/errors.js';
import { desiredSecret, nextSecretStep, observedSecret, podTemplateUsesSecret, RESTARTED_FOR_ANNOTATION, rolloutRestartPatch, secretPath, workloadPath, type ObservedSecret, type SecretVersion } from '../core/kubernetes-secret.js';
import type { KubernetesDestination } from '../core/types.js';
import { findIssuer } from '../db/issuers.js';
import { findClusterByName, namespaceGranted, type ClusterRow } from '../db/kubernetes-clusters.js';
import { issuerOf } from '../db/versions.js';
import type { DeliveryContext, DeliveryReport } from './delivery-context.js';
import type { ActivityDeps } from './deps.js';
import { DestinationRefused, recordDestinationRefusal } from './destination-guard.js';
import { kubeRequest, statusMessage, type ClusterEndpoint, type KubeResponse } from './kubernetes-api.js';

/** Rounds of read-decide-write before a Secret that keeps changing under us is left to the activity's retry. */
const MAX_ROUNDS = 6;

export async function deliverToKubernetes(deps: ActivityDeps, context: DeliveryContext, destination: KubernetesDestination): Promise<DeliveryReport> {
  const where = `Secret ${destination.namespace}/${destination.secretName} of cluster "${destination.cluster}"`;
  const refuse = async (reason: string, action: 'destination.connect_refused' | 'destination.write_refused' = 'destination.write_refused'): Promise<never> => {
    await recordDestinationRefusal(deps, {
      certificateId: context.certificate.id,
      teamId: context.certificate.teamId,
      action,
      reason,
      dedupeKey: `destination-refused/${context.version.id}/${context.destinationIndex}/${context.rolloutKey}`,
    });
    throw ApplicationFailure.nonRetryable(reason, BUSINESS_ERROR_TYPES.destinationRejected);
  };

  if (!context.privateKeyPem) return refuse(`${where}: the certificate's key was not made by Certflow, so there is no tls.key to deliver`);
  const cluster = await findClusterByName(deps.db, destination.cluster);
  if (!cluster) return refuse(`${where}: no cluster "${destination.cluster}" is registered any more; nothing was written`);
  // Grants are checked again at each delivery: a namespace taken away from the team is not written to.
  if (!(await namespaceGranted(deps.db, cluster.id, context.certificate.teamId, destination.namespace))) {
    return refuse(`${where}: namespace "${destination.namespace}" is no longer granted to the certificate's team; nothing was written`);
  }
  const addresses = await admitCluster(deps, cluster).catch((error: unknown) =>
    error instanceof DestinationRefused ? refuse(`${where}: the cluster's API server is refused before connecting: ${error.message}`, 'destination.connect_refused') : Promise.reject(error),
  );
  const token = openToken(deps, cluster);
  const endpoint: ClusterEndpoint = { url: new URL(cluster.apiUrl), caPem: cluster.caBundlePem, token: token.toString('utf8'), addresses };
  token.fill(0);

  const version: SecretVersion = {
    certificateId: context.certificate.id,
    versionId: context.version.id,
    serial: context.version.serial,
    notAfter: context.version.notAfter.toISOString(),
    data: {
      'tls.crt': context.certificatePem + context.chainPem,
      'tls.key': context.privateKeyPem,
      'ca.crt': await rootPem(deps, issuerOf(context.version)),
    },
  };
  const restarts = destination.rolloutRestart ?? [];
  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', path: string, body?: unknown, contentType?: string) =>
    kubeRequest(endpoint, method, path, body, contentType).catch((error: unknown) => {
      throw new Error(`${method} ${cluster.apiUrl}${path} failed: ${(error as Error).message}`);
    });
  const put = (observed: ObservedSecret, restartedFor: string | null) => {
    const secret = desiredSecret(destination.secretName, destination.namespace, version, restartedFor);
    return call('PUT', secretPath(destination.namespace, destination.secretName), { ...secret, metadata: { ...secret.metadata, resourceVersion: observed.resourceVersion } });
  };

  for (let round = 1; round <= MAX_ROUNDS; round++) {
    const read = await call('GET', secretPath(destination.namespace, destination.secretName));
    let observed: ObservedSecret | null = null;
    if (read.status !== 404) {
      answered(read, `reading ${where}`);
      observed = observedSecret(read.body);
      if (!observed) throw new Error(`reading ${where}: the API server's answer is not a Secret`);
    }
    const step = nextSecretStep(observed, version, restarts.length);
    switch (step.kind) {
      case 'refuse':
        return refuse(`${where} is not overwritten: ${step.reason}`);
      case 'done':
        return { deployedSerial: context.version.serial };
      case 'create': {
        const created = await call('POST', secretPath(destination.namespace), desiredSecret(destination.secretName, destination.namespace, version, null));
        if (created.status !== 409) answered(created, `creating ${where}`);
        break;
      }
      case 'replace': {
        // The restart marker stays as it was: the restarts for this version are still to come.
        const replaced = await put(observed!, observed!.annotations[RESTARTED_FOR_ANNOTATION] ?? null);
        if (replaced.status !== 409 && replaced.status !== 404) answered(replaced, `replacing ${where}`);
        break;
      }
      case 'restart': {
        // All checked before any is restarted: a workload that does not use this Secret (another team's, in a shared namespace) is never restarted.
        for (const workload of restarts) {
          const read = await call('GET', workloadPath(destination.namespace, workload.kind, workload.name));
          answered(read, `reading ${workload.kind} ${destination.namespace}/${workload.name} before restarting it`);
          if (!podTemplateUsesSecret(read.body, destination.secretName)) {
            return refuse(
              `${where} was written, but ${workload.kind} ${destination.namespace}/${workload.name} is not restarted: its pod template does not use Secret "${destination.secretName}" (volume, projected volume, envFrom or env secretKeyRef); remove it from rolloutRestart or mount the Secret`,
            );
          }
        }
        for (const workload of restarts) {
          const patched = await call('PATCH', workloadPath(destination.namespace, workload.kind, workload.name), rolloutRestartPatch(deps.now()), 'application/strategic-merge-patch+json');
          answered(patched, `restarting ${workload.kind} ${destination.namespace}/${workload.name} (the Secret holds serial ${version.serial})`);
        }
        const marked = await put(observed!, version.versionId);
        if (marked.status !== 409 && marked.status !== 404) answered(marked, `recording the restart on ${where}`);
        break;
      }
    }
  }
  throw new Error(`${where} kept changing while it was written (${MAX_ROUNDS} rounds); retrying`);
}

/**
 * Throws unless 2xx: a retryable Error for 408, 429 and 5xx, a non-retryable DestinationRejected
 * for the rest (a token the cluster refuses, RBAC that does not allow it, a missing namespace or
 * workload: retrying the step cannot fix those; the rollout is retried later).
 */
function answered(response: KubeResponse, what: string): void {
  const { status } = response;
  if (status >= 200 && status < 300) return;
  const message = `${what}: the API server answered ${status}: ${statusMessage(response)}`;
  if (status === 408 || status === 429 || status >= 500 || status === 0) throw new Error(message);
  throw ApplicationFailure.nonRetryable(message, BUSINESS_ERROR_TYPES.destinationRejected);
}

async function admitCluster(deps: ActivityDeps, cluster: ClusterRow): Promise<string[]> {
  const url = new URL(cluster.apiUrl);
  return deps.destinationGuard.admitRegisteredCluster(url.hostname, url.port ? Number(url.port) : 443);
}

function openToken(deps: ActivityDeps, cluster: ClusterRow): Buffer {
  try {
    return openClusterToken(deps.kek, cluster.sealedToken, cluster.id);
  } catch (error) {
    throw new Error(`cannot open the service-account token of cluster "${cluster.name}": ${(error as Error).message}`);
  }
}

/** The root the version chains to: `ca.crt`, what clients of the Secret trust. */
async function rootPem(deps: ActivityDeps, issuerId: string): Promise<string> {
  let issuer = await findIssuer(deps.db, issuerId);
  while (issuer && issuer.kind !== 'root' && issuer.parentId) issuer = await findIssuer(deps.db, issuer.parentId);
  if (!issuer || issuer.kind !== 'root') throw new Error(`the root above issuer ${issuerId} is not found`);
  return `${issuer.certificatePem.trim()}\n`;
}
