/**
 * `certflow k8s-issuer`: cert-manager's external issuer for Certflow. It watches CertificateRequests
 * whose issuerRef names a CertflowIssuer or CertflowClusterIssuer and, once cert-manager's approval
 * says so, submits their CSR to Certflow as the issuer's team (policy, approvals, quotas and audit
 * apply there) and writes back the chain, the CA and the Ready condition — or Failed with Certflow's
 * reason. A request waiting for a Certflow approval stays pending until it is decided.
 *
 * Restarts are safe: the CertificateRequest's UID is the Idempotency-Key of its submission and the
 * certificate id is kept on the request (annotation), so one request never makes two certificates.
 * Every `resyncMs` it also looks at everything again (missed watch events, pending approvals), sets
 * each issuer's readiness (does the token open its team?), and passes Certflow's renewal requests
 * (a bulk reissue) on to cert-manager by setting the Certificate's `Issuing` condition, as `cmctl renew` does.
 */
import {
  CERTFLOW_GROUP,
  CERTIFICATE_ID_ANNOTATION,
  CERTIFICATE_NAME_ANNOTATION,
  CERTIFICATE_REVISION_ANNOTATION,
  certificateOfRequest,
  GENERATION_ANNOTATION,
  findCondition,
  goDurationSeconds,
  ISSUER_TOKEN_LABEL,
  issuerUrlRefusal,
  pemCertificates,
  problemMessage,
  profileFor,
  RENEWAL_REQUESTED_ANNOTATION,
  requestPhase,
  withCondition,
  type CertificateRequestObject,
  type Condition,
  type IssuerKind,
} from '../core/k8s-issuer.js';
import { CertflowClient, CertflowProblem, type CertificateView } from './certflow-client.js';
import { isNotFound, KubeObjects, type IssuerObject } from './kube.js';
import type * as k8s from '@kubernetes/client-node';

export interface IssuerControllerOptions {
  kubeConfig: k8s.KubeConfig;
  /** This cluster's name in Certflow's inventory. */
  clusterName: string;
  /** Where a CertflowClusterIssuer's token Secret is read: its own namespace, never the platform's. */
  clusterResourceNamespace: string;
  /** The Certflow API URLs an issuer may name: tokens are sent nowhere else. */
  allowedUrls: readonly string[];
  resyncMs: number;
  log: (message: string) => void;
  now?: () => Date;
}

export interface IssuerController {
  /** Resolves once the first full pass is done. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

const WATCH_RESTART_MS = 1_000;
const FINISHED_STATES = new Set(['rejected', 'approval_expired', 'failed', 'revoked', 'decommissioned']);

interface ResolvedIssuer {
  issuer: IssuerObject;
  client: CertflowClient;
}

export function startIssuerController(options: IssuerControllerOptions): IssuerController {
  const kube = new KubeObjects(options.kubeConfig);
  const now = options.now ?? (() => new Date());
  const log = options.log;
  let stopped = false;
  let watch: AbortController | null = null;
  let timer: NodeJS.Timeout | null = null;
  // One queue per issuer, in arrival order: an issuer whose URL answers slowly holds up only its own requests.
  const queues = new Map<string, Promise<void>>();
  const enqueue = (key: string, what: string, work: () => Promise<void>): Promise<void> => {
    const next = (queues.get(key) ?? Promise.resolve()).then(async () => {
      if (stopped) return;
      await work().catch((error: unknown) => log(`${what}: ${error instanceof Error ? error.message : String(error)} (tried again at the next resync)`));
    });
    queues.set(key, next);
    void next.then(() => {
      if (queues.get(key) === next) queues.delete(key);
    });
    return next;
  };
  const issuerKey = (kind: string | undefined, name: string, namespace: string | undefined) => (kind === 'CertflowClusterIssuer' ? `${kind}/${name}` : `${kind}/${namespace}/${name}`);

  const resolveIssuer = async (kind: IssuerKind, name: string, namespace: string): Promise<ResolvedIssuer> => {
    const issuer = await kube.issuer(kind, name, namespace);
    // Checked before the Secret is read: a token goes only to the operator's Certflow API URLs.
    const refusal = issuerUrlRefusal(issuer.spec.url, options.allowedUrls);
    if (refusal) throw new Error(refusal);
    const secretNamespace = kind === 'CertflowIssuer' ? namespace : options.clusterResourceNamespace;
    const { name: secretName, key = 'token' } = issuer.spec.tokenSecretRef;
    const secret = await kube.secretValue(secretNamespace, secretName, key);
    if (secret.labels[ISSUER_TOKEN_LABEL] !== 'true') throw new Error(`the Secret ${secretNamespace}/${secretName} is not labelled ${ISSUER_TOKEN_LABEL}: "true"`);
    const token = secret.value;
    if (!token) throw new Error(`the Secret ${secretNamespace}/${secretName} has no "${key}"`);
    const ca = issuer.spec.caBundle ? Buffer.from(issuer.spec.caBundle, 'base64').toString('utf8') : undefined;
    return { issuer, client: new CertflowClient(issuer.spec.url, token, ca) };
  };

  const writeRequestStatus = async (request: CertificateRequestObject, condition: Omit<Condition, 'lastTransitionTime'>, extra: Partial<NonNullable<CertificateRequestObject['status']>> = {}) => {
    const current = findCondition(request.status?.conditions, 'Ready');
    const unchanged = current?.status === condition.status && current.reason === condition.reason && current.message === condition.message && Object.keys(extra).length === 0;
    if (unchanged) return;
    const status = { ...request.status, ...extra, conditions: withCondition(request.status?.conditions, condition, now()) };
    await kube.replaceCertificateRequestStatus({ ...request, status });
    log(`CertificateRequest ${request.metadata.namespace}/${request.metadata.name}: Ready=${condition.status} ${condition.reason}: ${condition.message}`);
  };

  const fail = (request: CertificateRequestObject, reason: 'Failed' | 'Denied', message: string) =>
    writeRequestStatus(request, { type: 'Ready', status: 'False', reason, message }, { failureTime: now().toISOString() });

  /**
   * The Certflow certificate and generation of the request: the ones kept on it, or submitted with the
   * request's UID as key (a request for a Certificate that has a Certflow certificate renews it).
   */
  const submitted = async (request: CertificateRequestObject, resolved: ResolvedIssuer): Promise<{ request: CertificateRequestObject; id: string; generation: number } | null> => {
    const kept = request.metadata.annotations?.[CERTIFICATE_ID_ANNOTATION];
    if (kept) return { request, id: kept, generation: Number(request.metadata.annotations?.[GENERATION_ANNOTATION] ?? '1') || 1 };
    const { spec, metadata } = request;
    const durationSeconds = spec.duration ? goDurationSeconds(spec.duration) : null;
    const certificate = certificateOfRequest(request);
    // No duration on the Certificate and none on the issuer: Certflow applies the team's defaultValidity.
    const validity = durationSeconds ?? resolved.issuer.spec.validity;
    let id: string;
    let generation: number;
    try {
      ({ id, generation = 1 } = await resolved.client.createCertificate(
        {
          team: resolved.issuer.spec.team,
          csr: Buffer.from(spec.request, 'base64').toString('utf8'),
          ...(validity !== undefined ? { validity } : {}),
          profile: profileFor(spec.usages),
          kubernetes: {
            cluster: options.clusterName,
            namespace: metadata.namespace,
            name: certificate.name,
            certificateRequest: metadata.name,
            uid: metadata.uid,
            ...(certificate.revision !== undefined ? { revision: certificate.revision } : {}),
          },
        },
        `k8s-certificaterequest-${metadata.uid}`,
      ));
    } catch (error) {
      if (!(error instanceof CertflowProblem) || error.status === 409 || error.status === 429) throw error;
      await fail(request, 'Failed', problemMessage(error.body));
      return null;
    }
    const annotations = { ...metadata.annotations, [CERTIFICATE_ID_ANNOTATION]: id, [GENERATION_ANNOTATION]: String(generation) };
    const annotated = await kube.replaceCertificateRequest({ ...request, metadata: { ...metadata, annotations } });
    return { request: annotated, id, generation };
  };

  const reconcileRequest = async (observed: CertificateRequestObject): Promise<void> => {
    const phase = requestPhase(observed);
    if (phase.kind === 'not-ours' || phase.kind === 'finished' || phase.kind === 'unapproved') return;
    // The watch may hand over an old copy: decide on the stored one.
    const request = await kube.certificateRequest(observed.metadata.namespace, observed.metadata.name);
    const current = requestPhase(request);
    if (current.kind === 'denied') return fail(request, 'Denied', `The request was denied: ${current.message}`);
    if (current.kind !== 'approved') return;

    let resolved: ResolvedIssuer;
    try {
      resolved = await resolveIssuer(current.issuer.kind, current.issuer.name, request.metadata.namespace);
    } catch (error) {
      const reason = isNotFound(error) ? `${current.issuer.kind} "${current.issuer.name}" or its token Secret was not found` : (error as Error).message;
      return writeRequestStatus(request, { type: 'Ready', status: 'False', reason: 'Pending', message: `Waiting for the issuer: ${reason}` });
    }
    const submission = await submitted(request, resolved);
    if (!submission) return;
    const view = await resolved.client.certificate(submission.id);
    // The annotation is writable by whoever writes the request: the certificate must be this request's.
    if (view.kubernetes?.uid !== request.metadata.uid || view.kubernetes.namespace !== request.metadata.namespace || view.kubernetes.cluster !== options.clusterName) {
      return fail(request, 'Failed', `${CERTIFICATE_ID_ANNOTATION} names Certflow certificate ${submission.id}, which was not issued for this CertificateRequest`);
    }
    await applyCertificateState(submission.request, submission, view, resolved.client);
  };

  const applyCertificateState = async (request: CertificateRequestObject, { id, generation }: { id: string; generation: number }, view: CertificateView, client: CertflowClient) => {
    // A renewal is answered with its own generation, never with the version it replaces.
    const issued = view.currentVersion !== null && view.currentVersion.generation >= generation;
    if (issued && (view.state === 'active' || view.state === 'renewal_overdue')) {
      const chain = pemCertificates(await client.chainPem(id));
      const roots = pemCertificates(await client.rootsPem());
      return writeRequestStatus(
        request,
        { type: 'Ready', status: 'True', reason: 'Issued', message: `Certificate issued by Certflow (${id}, generation ${view.currentVersion!.generation}, serial ${view.currentVersion!.serial})` },
        { certificate: Buffer.from(chain.join('')).toString('base64'), ca: Buffer.from(roots.join('')).toString('base64') },
      );
    }
    if (FINISHED_STATES.has(view.state)) return fail(request, 'Failed', `Certflow certificate ${id} is ${view.state}${view.lastError ? `: ${view.lastError.message}` : ''}`);
    const waiting = view.state === 'awaiting_approval' ? `Waiting for approval in Certflow (certificate ${id})` : `Certflow is issuing certificate ${id} (${view.state})`;
    return writeRequestStatus(request, { type: 'Ready', status: 'False', reason: 'Pending', message: waiting });
  };

  const reconcileIssuer = async (issuer: IssuerObject): Promise<ResolvedIssuer | null> => {
    const namespace = issuer.metadata.namespace ?? options.clusterResourceNamespace;
    let condition: Omit<Condition, 'lastTransitionTime'>;
    let resolved: ResolvedIssuer | null = null;
    try {
      const candidate = await resolveIssuer(issuer.kind, issuer.metadata.name, namespace);
      await candidate.client.checkAccess(issuer.spec.team);
      resolved = candidate;
      condition = { type: 'Ready', status: 'True', reason: 'Verified', message: `Certflow accepts the token for team "${issuer.spec.team}"` };
    } catch (error) {
      const message = error instanceof CertflowProblem ? `${problemMessage(error.body)} (HTTP ${error.status})` : isNotFound(error) ? 'the token Secret was not found' : (error as Error).message;
      condition = { type: 'Ready', status: 'False', reason: 'Unverified', message: `The issuer cannot be used: ${message}`.slice(0, 1000) };
    }
    const current = findCondition(issuer.status?.conditions, 'Ready');
    if (current?.status !== condition.status || current.message !== condition.message) {
      await kube.replaceIssuerStatus({ ...issuer, status: { conditions: withCondition(issuer.status?.conditions, { ...condition, observedGeneration: issuer.metadata.generation ?? 0 }, now()) } });
      log(`${issuer.kind} ${issuer.metadata.namespace ? `${issuer.metadata.namespace}/` : ''}${issuer.metadata.name}: Ready=${condition.status}: ${condition.message}`);
    }
    return resolved;
  };

  /** Certflow asked cert-manager to renew (a bulk reissue): the Certificate of the request it issued is marked Issuing, once per ask. */
  const passOnRenewals = async (resolved: ResolvedIssuer) => {
    const scope = resolved.issuer.kind === 'CertflowIssuer' ? resolved.issuer.metadata.namespace : null;
    let cursor: string | null = null;
    do {
      const page = await resolved.client.kubernetesCertificates(resolved.issuer.spec.team, cursor);
      for (const view of page.items) {
        const ref = view.kubernetes;
        if (!ref || !view.renewalRequestedAt || ref.cluster !== options.clusterName) continue;
        // A namespaced issuer speaks for its namespace only.
        if (scope && ref.namespace !== scope) continue;
        await markForReissuance(resolved.issuer, ref, view);
      }
      cursor = page.nextCursor;
    } while (cursor);
  };

  const markForReissuance = async (issuer: IssuerObject, ref: NonNullable<CertificateView['kubernetes']>, view: CertificateView) => {
    const { namespace, name, certificateRequest: requestName } = ref;
    const certificate = await kube.certificate(namespace, name).catch((error: unknown) => (isNotFound(error) ? null : Promise.reject(error)));
    if (!certificate || certificate.metadata.annotations?.[RENEWAL_REQUESTED_ANNOTATION] === view.renewalRequestedAt) return;
    // Only the certificate cert-manager holds now: an older request's certificate was replaced already.
    const request = await kube.certificateRequest(namespace, requestName).catch((error: unknown) => (isNotFound(error) ? null : Promise.reject(error)));
    const revision = request?.metadata.annotations?.[CERTIFICATE_REVISION_ANNOTATION];
    if (!request || (revision !== undefined && certificate.status?.revision !== undefined && String(certificate.status.revision) !== revision)) return;
    // The `kubernetes` field of a Certflow certificate is whatever its requester sent: act only when the
    // request really is the one this issuer submitted as that certificate, for that Certificate.
    const { issuerRef } = request.spec;
    const sameIssuer = issuerRef.group === CERTFLOW_GROUP && issuerRef.kind === issuer.kind && issuerRef.name === issuer.metadata.name;
    const sameRequest = request.metadata.uid === ref.uid && request.metadata.annotations?.[CERTIFICATE_ID_ANNOTATION] === view.id;
    const forCertificate = (request.metadata.annotations?.[CERTIFICATE_NAME_ANNOTATION] ?? request.metadata.name) === name;
    if (!sameIssuer || !sameRequest || !forCertificate) {
      log(`Certflow certificate ${view.id} names ${namespace}/${requestName}, which this issuer did not submit as it: not passed on`);
      return;
    }
    const message = `Certflow asked for re-issuance: ${view.renewalRequestReason ?? 'renewal requested'}`.slice(0, 1000);
    const issuing = { type: 'Issuing', status: 'True' as const, reason: 'ManuallyTriggered', message };
    // The marker first: once it is written the ask is passed on, even if the status write below fails
    // (cert-manager's own retry, or the next ask, then applies), so Issuing is never set twice for one ask.
    const marked = await kube.replaceCertificate({ ...certificate, metadata: { ...certificate.metadata, annotations: { ...certificate.metadata.annotations, [RENEWAL_REQUESTED_ANNOTATION]: view.renewalRequestedAt! } } });
    await kube.replaceCertificateStatus({ ...marked, status: { ...certificate.status, conditions: withCondition(certificate.status?.conditions, issuing, now()) } });
    log(`Certificate ${namespace}/${name}: Issuing=True (${message}, Certflow certificate ${view.id})`);
  };

  const enqueueRequest = (request: CertificateRequestObject) => {
    const { issuerRef } = request.spec;
    return enqueue(issuerKey(issuerRef.kind, issuerRef.name, request.metadata.namespace), `CertificateRequest ${request.metadata.namespace}/${request.metadata.name}`, () => reconcileRequest(request));
  };

  const resync = async () => {
    const { items, resourceVersion } = await kube.listCertificateRequests();
    const passes = items.map((request) => enqueueRequest(request));
    for (const issuer of await kube.listIssuers()) {
      passes.push(
        enqueue(issuerKey(issuer.kind, issuer.metadata.name, issuer.metadata.namespace), `${issuer.kind} ${issuer.metadata.name}`, async () => {
          const resolved = await reconcileIssuer(issuer);
          if (resolved) await passOnRenewals(resolved);
        }),
      );
    }
    await Promise.all(passes);
    return resourceVersion;
  };

  const startWatch = async (resourceVersion: string) => {
    if (stopped) return;
    try {
      watch = await kube.watchCertificateRequests(
        resourceVersion,
        (request) => void enqueueRequest(request),
        () => {
          // Ended (timeout, 410 Gone, a dropped connection): list again, then watch from there.
          if (!stopped) setTimeout(() => void resync().then(startWatch, () => startWatch('')), WATCH_RESTART_MS);
        },
      );
    } catch (error) {
      log(`watching CertificateRequests failed: ${(error as Error).message}`);
      if (!stopped) setTimeout(() => void resync().then(startWatch, () => startWatch('')), WATCH_RESTART_MS);
    }
  };

  const scheduleResync = () => {
    timer = setTimeout(() => {
      void resync()
        .catch((error: unknown) => log(`resync failed: ${(error as Error).message}`))
        .finally(() => {
          if (!stopped) scheduleResync();
        });
    }, options.resyncMs);
  };

  const ready = resync().then(
    async (resourceVersion) => {
      await startWatch(resourceVersion);
      scheduleResync();
    },
    (error: unknown) => {
      // Not fatal: the API server or the RBAC may come later; the resyncs keep trying.
      log(`first pass failed: ${(error as Error).message}`);
      void startWatch('');
      scheduleResync();
    },
  );

  return {
    ready,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      watch?.abort();
      await ready.catch(() => undefined);
      await Promise.all(queues.values());
    },
  };
}

