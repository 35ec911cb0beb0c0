/**
 * The contract between the API and `certflow agent`: request bodies the API parses and the
 * assignment shapes it answers with. The agent parses the answers with the same schemas.
 */
import { z } from 'zod';
import { KEY_ALGORITHMS, KEY_SOURCES, PROFILES } from '../core/types.js';

const teamRef = z.string().min(1).max(100);
export const agentName = z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/, "may contain only letters, digits, '.', '_' and '-'");
const certificateId = z.string().regex(/^crt_[a-z2-7]{20}$/, 'must be a certificate id such as crt_…');
const generation = z.number().int().min(1).max(2 ** 31 - 1);
/** Serials as certificate_versions stores them: lower-case hex, compared case-insensitively. */
const serial = z
  .string()
  .regex(/^[0-9A-Fa-f]{1,40}$/, 'must be the certificate serial in hex')
  .transform((value) => value.toLowerCase());

export const registerAgentSchema = z.strictObject({ team: teamRef, name: agentName });

export const submitCsrSchema = z.strictObject({
  certificateId,
  generation,
  csr: z.string().min(1).max(64 * 1024),
});

export const deploymentReportSchema = z
  .strictObject({
    ok: z.boolean(),
    serial: serial.optional(),
    error: z.string().min(1).max(2000).optional(),
  })
  .refine((report) => !report.ok || report.serial !== undefined, { path: ['serial'], message: 'a successful report names the deployed serial' })
  .refine((report) => report.ok || report.error !== undefined, { path: ['error'], message: 'a failed report says what went wrong' });
export type DeploymentReport = z.output<typeof deploymentReportSchema>;

export const csrRequestSchema = z.object({
  certificateId: z.string(),
  generation: z.number().int(),
  target: z.string(),
  keyAlgorithm: z.enum(KEY_ALGORITHMS),
  profile: z.enum(PROFILES),
  commonName: z.string().nullable(),
  dnsNames: z.array(z.string()),
  ipAddresses: z.array(z.string()),
  uris: z.array(z.string()),
});
export type CsrRequest = z.output<typeof csrRequestSchema>;

export const deploymentSchema = z.object({
  deliveryId: z.number().int(),
  certificateId: z.string(),
  versionId: z.string(),
  generation: z.number().int(),
  serial: z.string(),
  target: z.string(),
  /** `agent`: the key is in the agent's state directory; `csr`: the client holds it, no key.pem is written. */
  keySource: z.enum(KEY_SOURCES),
  certificatePem: z.string(),
  chainPem: z.string(),
});
export type Deployment = z.output<typeof deploymentSchema>;

export const assignmentsSchema = z.object({
  csrRequests: z.array(csrRequestSchema),
  deployments: z.array(deploymentSchema),
});
export type Assignments = z.output<typeof assignmentsSchema>;
