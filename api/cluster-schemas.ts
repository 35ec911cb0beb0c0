/** Request bodies of `/v1/clusters` (api/routes/clusters.ts). */
import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { clusterName, namespaceName } from './schemas.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificates of a bundle; null when there is none or one does not parse. */
export function bundleCertificates(pem: string): string[] | null {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return null;
  try {
    for (const block of blocks) new X509Certificate(block);
  } catch {
    return null;
  }
  return blocks;
}

const apiUrl = z
  .url({ protocol: /^https$/, message: "must be the https:// URL of the cluster's API server" })
  .max(2000)
  .refine((url) => {
    const parsed = new URL(url);
    return parsed.username === '' && parsed.password === '' && parsed.search === '' && parsed.hash === '';
  }, 'must not contain credentials, a query or a fragment')
  .transform((url) => url.replace(/\/+$/, ''));

const caBundle = z
  .string()
  .max(64 * 1024)
  .transform((pem, ctx) => {
    const blocks = bundleCertificates(pem);
    if (!blocks) {
      ctx.addIssue({ code: 'custom', message: "must be one or more PEM certificates: the CA that signs the API server's serving certificate" });
      return z.NEVER;
    }
    return `${blocks.join('\n')}\n`;
  });

/** A service-account token (a JWT or any bearer token the API server accepts); stored sealed, never shown again. */
const token = z
  .string()
  .min(16)
  .max(16 * 1024)
  .regex(/^[\x21-\x7e]+$/, 'must be a bearer token (printable characters, no spaces)');

const grants = z
  .array(
    z.strictObject({
      /** Team id or name. */
      team: z.string().min(1).max(100),
      namespaces: z.array(namespaceName).max(100),
    }),
  )
  .max(200);

export const registerClusterSchema = z.strictObject({
  name: clusterName,
  apiUrl,
  caBundle,
  token,
  namespaces: grants.default([]),
});
export type RegisterClusterBody = z.output<typeof registerClusterSchema>;

export const patchClusterSchema = z
  .strictObject({
    apiUrl: apiUrl.optional(),
    caBundle: caBundle.optional(),
    token: token.optional(),
    /** Replaces every team's namespaces on the cluster. */
    namespaces: grants.optional(),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), { message: 'name at least one of apiUrl, caBundle, token, namespaces' });
export type PatchClusterBody = z.output<typeof patchClusterSchema>;
