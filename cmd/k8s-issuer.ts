/**
 * `certflow k8s-issuer`: cert-manager's external issuer for Certflow (k8s-issuer/controller.ts), run in
 * the cluster with its service account (deploy/kubernetes/issuer-controller.yaml), or anywhere with
 * KUBECONFIG. Configuration: CERTFLOW_K8S_CLUSTER_NAME (required: the cluster's name in Certflow's
 * inventory), CERTFLOW_K8S_ALLOWED_URLS (required: the Certflow API URLs issuers may name),
 * CERTFLOW_K8S_CLUSTER_RESOURCE_NAMESPACE (where CertflowClusterIssuers' token Secrets are, default
 * "certflow-issuers"), CERTFLOW_K8S_RESYNC_SECONDS (default 30).
 */
import * as k8s from '@kubernetes/client-node';
import { startIssuerController } from '../k8s-issuer/controller.js';
import { loadK8sIssuerConfig } from './k8s-issuer-config.js';
import { logger, onShutdownSignal, runMain } from './log.js';

runMain(async () => {
  const config = loadK8sIssuerConfig(process.env);
  const kubeConfig = new k8s.KubeConfig();
  // KUBECONFIG or ~/.kube/config if there is one, else the pod's service account.
  kubeConfig.loadFromDefault();
  const log = logger('k8s-issuer');
  const controller = startIssuerController({ kubeConfig, ...config, log });
  onShutdownSignal(() => controller.stop());
  await controller.ready;
  log(`issuer controller for cluster "${config.clusterName}" watching CertificateRequests on ${kubeConfig.getCurrentCluster()?.server ?? '(no cluster)'}`);
});
