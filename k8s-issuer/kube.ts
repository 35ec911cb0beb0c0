/**
 * The Kubernetes objects the issuer controller reads and writes, through @kubernetes/client-node, with
 * only the verbs its RBAC grants (deploy/kubernetes/issuer-controller.yaml): cert-manager's
 * CertificateRequests and Certificates (get/list/watch, update, update status), Certflow's issuers
 * (get/list/watch, update status) and the token Secrets they name (get, where a Role allows it).
 */
import * as k8s from '@kubernetes/client-node';
import { CERTFLOW_GROUP, type CertificateRequestObject, type Condition, type IssuerKind } from '../core/k8s-issuer.js';

const CERT_MANAGER = { group: 'cert-manager.io', version: 'v1' } as const;
const CERTFLOW = { group: CERTFLOW_GROUP, version: 'v1alpha1' } as const;
const ISSUER_PLURALS: Record<IssuerKind, string> = { CertflowIssuer: 'certflowissuers', CertflowClusterIssuer: 'certflowclusterissuers' };

export interface IssuerObject {
  kind: IssuerKind;
  metadata: { name: string; namespace?: string; generation?: number; resourceVersion?: string };
  spec: { url: string; team: string; tokenSecretRef: { name: string; key?: string }; caBundle?: string; validity?: string };
  status?: { conditions?: Condition[] };
}

export interface CertificateObject {
  metadata: { name: string; namespace: string; annotations?: Record<string, string>; resourceVersion?: string };
  status?: { conditions?: Condition[]; revision?: number };
}

export function isNotFound(error: unknown): boolean {
  return error instanceof k8s.ApiException && error.code === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof k8s.ApiException && error.code === 409;
}

export class KubeObjects {
  private readonly custom: k8s.CustomObjectsApi;
  private readonly core: k8s.CoreV1Api;

  constructor(readonly config: k8s.KubeConfig) {
    this.custom = config.makeApiClient(k8s.CustomObjectsApi);
    this.core = config.makeApiClient(k8s.CoreV1Api);
  }

  async listCertificateRequests(): Promise<{ items: CertificateRequestObject[]; resourceVersion: string }> {
    const list = (await this.custom.listCustomObjectForAllNamespaces({ ...CERT_MANAGER, plural: 'certificaterequests' })) as {
      items: CertificateRequestObject[];
      metadata: { resourceVersion: string };
    };
    return { items: list.items, resourceVersion: list.metadata.resourceVersion };
  }

  async certificateRequest(namespace: string, name: string): Promise<CertificateRequestObject> {
    return (await this.custom.getNamespacedCustomObject({ ...CERT_MANAGER, namespace, plural: 'certificaterequests', name })) as CertificateRequestObject;
  }

  /** PUT of the whole object (metadata changes); its resourceVersion makes a concurrent change a 409. */
  async replaceCertificateRequest(request: CertificateRequestObject): Promise<CertificateRequestObject> {
    const { namespace, name } = request.metadata;
    return (await this.custom.replaceNamespacedCustomObject({ ...CERT_MANAGER, namespace, plural: 'certificaterequests', name, body: request })) as CertificateRequestObject;
  }

  async replaceCertificateRequestStatus(request: CertificateRequestObject): Promise<CertificateRequestObject> {
    const { namespace, name } = request.metadata;
    return (await this.custom.replaceNamespacedCustomObjectStatus({ ...CERT_MANAGER, namespace, plural: 'certificaterequests', name, body: request })) as CertificateRequestObject;
  }

  async certificate(namespace: string, name: string): Promise<CertificateObject> {
    return (await this.custom.getNamespacedCustomObject({ ...CERT_MANAGER, namespace, plural: 'certificates', name })) as CertificateObject;
  }

  async replaceCertificate(certificate: CertificateObject): Promise<CertificateObject> {
    const { namespace, name } = certificate.metadata;
    return (await this.custom.replaceNamespacedCustomObject({ ...CERT_MANAGER, namespace, plural: 'certificates', name, body: certificate })) as CertificateObject;
  }

  async replaceCertificateStatus(certificate: CertificateObject): Promise<CertificateObject> {
    const { namespace, name } = certificate.metadata;
    return (await this.custom.replaceNamespacedCustomObjectStatus({ ...CERT_MANAGER, namespace, plural: 'certificates', name, body: certificate })) as CertificateObject;
  }

  async issuer(kind: IssuerKind, name: string, namespace: string): Promise<IssuerObject> {
    const plural = ISSUER_PLURALS[kind];
    const object =
      kind === 'CertflowIssuer'
        ? await this.custom.getNamespacedCustomObject({ ...CERTFLOW, namespace, plural, name })
        : await this.custom.getClusterCustomObject({ ...CERTFLOW, plural, name });
    return { ...(object as IssuerObject), kind };
  }

  async listIssuers(): Promise<IssuerObject[]> {
    const namespaced = (await this.custom.listCustomObjectForAllNamespaces({ ...CERTFLOW, plural: ISSUER_PLURALS.CertflowIssuer })) as { items: IssuerObject[] };
    const cluster = (await this.custom.listClusterCustomObject({ ...CERTFLOW, plural: ISSUER_PLURALS.CertflowClusterIssuer })) as { items: IssuerObject[] };
    return [
      ...namespaced.items.map((item) => ({ ...item, kind: 'CertflowIssuer' as const })),
      ...cluster.items.map((item) => ({ ...item, kind: 'CertflowClusterIssuer' as const })),
    ];
  }

  async replaceIssuerStatus(issuer: IssuerObject): Promise<void> {
    const plural = ISSUER_PLURALS[issuer.kind];
    const body = { ...issuer, apiVersion: `${CERTFLOW.group}/${CERTFLOW.version}` };
    const { name, namespace } = issuer.metadata;
    if (issuer.kind === 'CertflowIssuer') await this.custom.replaceNamespacedCustomObjectStatus({ ...CERTFLOW, namespace: namespace!, plural, name, body });
    else await this.custom.replaceClusterCustomObjectStatus({ ...CERTFLOW, plural, name, body });
  }

  async secretValue(namespace: string, name: string, key: string): Promise<{ value: string | null; labels: Record<string, string> }> {
    const secret = await this.core.readNamespacedSecret({ namespace, name });
    const value = secret.data?.[key];
    return { value: value === undefined ? null : Buffer.from(value, 'base64').toString('utf8').trim(), labels: secret.metadata?.labels ?? {} };
  }

  /** Calls `onChange` for every CertificateRequest added or changed from `resourceVersion` on, until aborted or the watch ends. */
  async watchCertificateRequests(resourceVersion: string, onChange: (request: CertificateRequestObject) => void, done: (error: unknown) => void): Promise<AbortController> {
    return new k8s.Watch(this.config).watch(
      `/apis/${CERT_MANAGER.group}/${CERT_MANAGER.version}/certificaterequests`,
      { resourceVersion, allowWatchBookmarks: true },
      (phase, object: CertificateRequestObject) => {
        if (phase === 'ADDED' || phase === 'MODIFIED') onChange(object);
      },
      done,
    );
  }
}
