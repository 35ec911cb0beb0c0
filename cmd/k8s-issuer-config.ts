/** The environment of `certflow k8s-issuer` (cmd/k8s-issuer.ts), validated once at start-up. */
import { z } from 'zod';
import { isAllowedScheme, normalizedApiUrl } from '../core/k8s-issuer.js';
import { ConfigError } from './config.js';

const kubernetesName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be lowercase letters, digits, "-" and "." (a Kubernetes name)');

const allowedUrl = z
  .string()
  .trim()
  .refine((url) => normalizedApiUrl(url) !== null && isAllowedScheme(new URL(url)), 'must be https URLs (plain http only to loopback), without credentials or query');

const schema = z.object({
  CERTFLOW_K8S_ALLOWED_URLS: z
    .string({ error: 'required: the Certflow API URL(s) issuers may name, comma-separated' })
    .transform((value) => value.split(',').map((url) => url.trim()).filter((url) => url.length > 0))
    .pipe(z.array(allowedUrl).min(1, 'name at least one Certflow API URL')),
  CERTFLOW_K8S_CLUSTER_NAME: kubernetesName,
  CERTFLOW_K8S_CLUSTER_RESOURCE_NAMESPACE: kubernetesName.max(63).default('certflow-issuers'),
  CERTFLOW_K8S_RESYNC_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
});

export interface K8sIssuerConfig {
  clusterName: string;
  clusterResourceNamespace: string;
  resyncMs: number;
  /** The only URLs an issuer may name: the controller sends tokens nowhere else. */
  allowedUrls: string[];
}

export function loadK8sIssuerConfig(env: NodeJS.ProcessEnv): K8sIssuerConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`invalid k8s-issuer configuration: ${problems}`);
  }
  return {
    clusterName: parsed.data.CERTFLOW_K8S_CLUSTER_NAME,
    clusterResourceNamespace: parsed.data.CERTFLOW_K8S_CLUSTER_RESOURCE_NAMESPACE,
    resyncMs: parsed.data.CERTFLOW_K8S_RESYNC_SECONDS * 1000,
    allowedUrls: parsed.data.CERTFLOW_K8S_ALLOWED_URLS,
  };
}
