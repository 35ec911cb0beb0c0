/** Request bodies and query strings of the public API (DESIGN.md §6), as strict zod schemas. */
import { CHALLENGE_TYPES } from '../core/acme-order.js';
import { z } from 'zod';
import { parseAddressRange } from '../core/address-ranges.js';
import { parseDurationSeconds } from '../core/duration.js';
import { canonicalizeCidr } from '../core/ip.js';
import { MAX_SANS } from '../core/names.js';
import { DNS_LABEL, DNS_SUBDOMAIN } from '../core/kubernetes-secret.js';
import { CERT_STATES, CERTIFICATE_SOURCES, KEY_ALGORITHMS, PRINCIPAL_KINDS, PROFILES, REVOCATION_REASONS, ROLES, ROLLOUT_RESTART_KINDS, TRACKED_SOURCES } from '../core/types.js';

export const MIN_VALIDITY_SECONDS = 15;
export const MAX_VALIDITY_SECONDS = 398 * 86_400;

const duration = (field: string) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    try {
      return parseDurationSeconds(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `${field}: ${(error as Error).message}` });
      return z.NEVER;
    }
  });

const relativeDirectory = z
  .string()
  .min(1)
  .max(200)
  .refine((path) => !path.startsWith('/') && !path.split('/').some((part) => part === '..' || part === '.' || part === ''), {
    message: 'must be a relative path inside the worker\'s file destination root, without "..", "." or empty segments',
  })
  .refine((path) => /^[A-Za-z0-9._/-]+$/.test(path), { message: 'may contain only letters, digits, ".", "_", "-" and "/"' });

const hostName = z
  .string()
  .min(1)
  .max(253)
  .refine((value) => /^[A-Za-z0-9.-]+$/.test(value) || /^[0-9a-fA-F:]+$/.test(value), { message: 'must be a host name or an IP address' });

const tlsEndpoint = z.strictObject({
  host: hostName,
  port: z.number().int().min(1).max(65_535),
  serverName: z.string().min(1).max(253).regex(/^[A-Za-z0-9.-]+$/, 'must be a DNS name').optional(),
});

/** Endpoints that must serve the new certificate after delivery, and how long to wait for them. */
const verifySpec = z
  .strictObject({
    endpoints: z.array(tlsEndpoint).min(1).max(20),
    timeout: duration('verify.timeout').pipe(z.number().min(1).max(86_400, 'verify.timeout must be at most a day')).default(300),
  })
  .transform(({ endpoints, timeout }) => ({ endpoints, timeoutSeconds: timeout }));

export const fileDestinationSchema = z.strictObject({
  type: z.literal('file'),
  directory: relativeDirectory,
  owner: z.strictObject({ uid: z.number().int().min(0).max(2 ** 31 - 1), gid: z.number().int().min(0).max(2 ** 31 - 1) }).optional(),
  verify: verifySpec.optional(),
});

export const agentDestinationSchema = z
  .strictObject({
    type: z.literal('agent'),
    agentId: z.string().regex(/^agt_[a-z2-7]{20}$/, 'must be an agent id such as agt_…, as returned by POST /v1/agents'),
    target: z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/, "must name a target of the agent's configuration (letters, digits, '.', '_', '-')"),
    reportTimeout: duration('reportTimeout').pipe(z.number().min(5).max(7 * 86_400)).default(600),
    verify: verifySpec.optional(),
  })
  .transform(({ reportTimeout, ...rest }) => ({ ...rest, reportTimeoutSeconds: reportTimeout }));

export const webhookDestinationSchema = z.strictObject({
  type: z.literal('webhook'),
  url: z
    .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' })
    .max(2000)
    .refine((url) => {
      const parsed = new URL(url);
      return parsed.username === '' && parsed.password === '';
    }, 'must not contain credentials (user:password@); the HMAC signature authenticates Certflow to the receiver'),
  /** Shared HMAC secret; stored sealed, never shown again. */
  secret: z.string().min(32, 'secret must be at least 32 characters').max(256),
  verify: verifySpec.optional(),
});

const kubernetesDnsName = (what: string, pattern: RegExp, max: number) =>
  z.string().min(1).max(max).regex(pattern, `${what} must be a lower-case DNS ${pattern === DNS_LABEL ? 'label' : 'name'} (letters, digits, "-"${pattern === DNS_LABEL ? '' : ', "."'}), as Kubernetes requires`);

export const clusterName = kubernetesDnsName('cluster', DNS_LABEL, 63);
export const namespaceName = kubernetesDnsName('namespace', DNS_LABEL, 63);

export const kubernetesDestinationSchema = z.strictObject({
  type: z.literal('kubernetes'),
  /** A cluster registered with POST /v1/clusters; the team must have `namespace` granted on it. */
  cluster: clusterName,
  namespace: namespaceName,
  secretName: kubernetesDnsName('secretName', DNS_SUBDOMAIN, 253),
  rolloutRestart: z
    .array(z.strictObject({ kind: z.enum(ROLLOUT_RESTART_KINDS), name: kubernetesDnsName('rolloutRestart name', DNS_SUBDOMAIN, 253) }))
    .max(20)
    .optional(),
  verify: verifySpec.optional(),
});

export const destinationSchema = z.discriminatedUnion('type', [fileDestinationSchema, agentDestinationSchema, webhookDestinationSchema, kubernetesDestinationSchema]);
export type DestinationBody = z.output<typeof destinationSchema>;

/** A Kubernetes object name (RFC 1123 DNS subdomain, as cert-manager's objects and namespaces have). */
const kubernetesName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes object name (lowercase letters, digits, "-" and ".")');

/** Set by the cert-manager external issuer (`certflow k8s-issuer`): the certificate is cert-manager's, keyed by its CSR. */
export const kubernetesRefSchema = z.strictObject({
  /** The cluster's name, as the issuer controller is configured with (CERTFLOW_K8S_CLUSTER_NAME). */
  cluster: kubernetesName,
  namespace: kubernetesName.max(63),
  name: kubernetesName,
  certificateRequest: kubernetesName,
  uid: z.string().regex(/^[0-9a-f-]{36}$/, 'must be the UID of the CertificateRequest'),
  /** cert-manager's `cert-manager.io/certificate-revision`: `name` is a Certificate, and a later request for it renews this one. */
  revision: z.number().int().min(1).max(2_147_483_647).optional(),
});

export const createCertificateSchema = z.strictObject({
  team: z.string().min(1).max(100),
  commonName: z.string().min(1).max(64).optional(),
  dnsNames: z.array(z.string().max(300)).max(MAX_SANS).default([]),
  ipAddresses: z.array(z.union([z.ipv4(), z.ipv6()], { message: 'must be an IPv4 or IPv6 address' })).max(MAX_SANS).default([]),
  uris: z.array(z.url({ protocol: /^(spiffe|https)$/, message: 'must be a spiffe:// or https:// URI' }).max(500)).max(MAX_SANS).default([]),
  profile: z.enum(PROFILES).default('tls-server'),
  keyAlgorithm: z.enum(KEY_ALGORITHMS).optional(),
  /** Omitted: the team's defaultValidity, else the platform default (core/policy.ts defaultValiditySeconds). */
  validity: duration('validity')
    .pipe(
      z
        .number()
        .min(MIN_VALIDITY_SECONDS, `validity must be at least ${MIN_VALIDITY_SECONDS} seconds`)
        .max(MAX_VALIDITY_SECONDS, `validity must be at most ${MAX_VALIDITY_SECONDS} seconds (398 days)`),
    )
    .optional(),
  renewBefore: duration('renewBefore').optional(),
  csr: z.string().max(64 * 1024).optional(),
  destinations: z.array(destinationSchema).max(20).default([]),
  kubernetes: kubernetesRefSchema.optional(),
})
  .refine((body) => body.renewBefore === undefined || body.validity === undefined || body.renewBefore < body.validity, {
    path: ['renewBefore'],
    message: 'renewBefore must be shorter than validity',
  })
  .refine((body) => !body.kubernetes || (body.csr !== undefined && body.destinations.length === 0), {
    path: ['kubernetes'],
    message: 'a kubernetes certificate comes with the CertificateRequest\'s csr and goes back to cert-manager: send csr, and no destinations',
  });
export type CreateCertificateInput = z.output<typeof createCertificateSchema>;
/** A request body with its validity settled (given, or from the team's policy: resolvedValidity). */
export type CreateCertificateBody = Omit<CreateCertificateInput, 'validity'> & { validity: number };

export const renewCertificateSchema = z.strictObject({
  reason: z.string().min(1).max(500).default('requested through the API'),
});

export const revokeCertificateSchema = z.strictObject({
  reason: z.enum(REVOCATION_REASONS).default('unspecified'),
});

export const listCertificatesQuery = z.strictObject({
  team: z.string().min(1).optional(),
  state: z.enum(CERT_STATES).optional(),
  /** `api` or `acme`; the ordinary listing only (not with `stuck=true`). */
  source: z.enum([...CERTIFICATE_SOURCES, ...TRACKED_SOURCES]).optional(),
  expiringBefore: z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time such as 2027-01-31T00:00:00Z' }).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  stuck: z.enum(['true', 'false']).transform((value) => value === 'true').optional(),
  /** With `stuck=true`: issuing, renewing or failed for longer than this counts as stuck. */
  stuckAfter: duration('stuckAfter').pipe(z.number().min(1).max(365 * 86_400, 'stuckAfter must be at most a year')).default(3600),
  /** With `stuck=true`: this many failed attempts of the current step count as stuck, however recent. */
  minAttempts: z.coerce.number().int().min(1).max(1000).default(3),
});

export const auditEventsQuery = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(200),
});

const zone = z
  .string()
  .min(1)
  .max(253)
  .transform((value) => value.toLowerCase())
  .refine((value) => /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(value), {
    message: 'must be a DNS zone such as "example.com", without wildcard or trailing dot',
  });

const approvalRulesSchema = z
  .strictObject({
    wildcards: z.boolean().default(false),
    usualZones: z.array(zone).max(100).default([]),
    validityAbove: duration('approval.validityAbove').optional(),
    newNames: z.boolean().default(false),
    deadline: duration('approval.deadline').pipe(z.number().min(1).max(30 * 86_400, 'approval.deadline must be at most 30 days')).default(72 * 3600),
    escalateAfter: duration('approval.escalateAfter').optional(),
  })
  .refine((rules) => rules.escalateAfter === undefined || rules.escalateAfter < rules.deadline, {
    path: ['escalateAfter'],
    message: 'escalateAfter must be shorter than the deadline',
  })
  .transform(({ validityAbove, deadline, escalateAfter, ...rest }) => ({
    ...rest,
    validityAboveSeconds: validityAbove ?? null,
    deadlineSeconds: deadline,
    escalateAfterSeconds: escalateAfter ?? Math.floor((deadline * 2) / 3),
  }));

/** A CIDR (IPv4 or IPv6), stored in canonical form; host bits must be zero. */
const cidr = z
  .string()
  .max(60)
  .transform((value, ctx) => {
    try {
      return canonicalizeCidr(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

const SPIFFE_SEGMENT = /^[A-Za-z0-9._-]+$/;
const spiffePathPrefix = z
  .string()
  .max(1024)
  .refine((path) => path === '/' || (path.startsWith('/') && path.slice(1).split('/').every((segment) => SPIFFE_SEGMENT.test(segment) && segment !== '.' && segment !== '..')), {
    message: 'must be "/" (every path) or a SPIFFE path such as "/ns/payments": segments of letters, digits, ".", "-" and "_", no empty, "." or ".." segment, no trailing "/"',
  });

const allowedUrisSchema = z.strictObject({
  spiffe: z
    .array(
      z.strictObject({
        trustDomain: z
          .string()
          .min(1)
          .max(255)
          .regex(/^[a-z0-9._-]+$/, 'must be a SPIFFE trust domain: lower-case letters, digits, ".", "-" and "_", without scheme, port or path'),
        pathPrefixes: z.array(spiffePathPrefix).min(1, 'list at least one path prefix ("/" for every path)').max(50),
      }),
    )
    .max(50)
    .default([]),
  /** Zones for the host of https:// URI SANs. */
  httpsHosts: z.array(zone).max(100).default([]),
});

const quotasSchema = z.strictObject({
  maxActiveCertificates: z.number().int().min(0).max(1_000_000).optional(),
  maxRenewalsPerHour: z.number().int().min(0).max(100_000).optional(),
});

/** Where the team's webhooks and verify endpoints may connect (core/destination-hosts.ts); the platform's deny list still wins. */
const destinationHostsSchema = z.strictObject({
  zones: z.array(zone).max(100).default([]),
  cidrs: z
    .array(
      z.string().max(50).transform((value, ctx) => {
        try {
          return parseAddressRange(value).text;
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: `must be a CIDR range such as "10.1.0.0/16" or "2001:db8::/32": ${(error as Error).message}` });
          return z.NEVER;
        }
      }),
    )
    .max(100)
    .default([]),
  ports: z.array(z.number().int().min(1).max(65_535)).max(100).default([]),
});

export const teamPolicySchema = z.strictObject({
  allowedDomains: z.array(zone).max(100).default([]),
  allowWildcards: z.boolean().default(false),
  /** Omitted: true when allowedIpRanges lists ranges, else false. */
  allowIpSans: z.boolean().optional(),
  allowedIpRanges: z.array(cidr).max(100).optional(),
  allowedUris: allowedUrisSchema.optional(),
  maxValidity: duration('maxValidity').pipe(z.number().max(MAX_VALIDITY_SECONDS)).default(90 * 86_400),
  minValidity: duration('minValidity').pipe(z.number().min(1)).optional(),
  /** The validity of a request that gives none; omitted: the platform default (90 days, within min/maxValidity). */
  defaultValidity: duration('defaultValidity').pipe(z.number().min(MIN_VALIDITY_SECONDS, `defaultValidity must be at least ${MIN_VALIDITY_SECONDS} seconds`)).optional(),
  keyAlgorithms: z.array(z.enum(KEY_ALGORITHMS)).min(1).default(['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072', 'RSA-4096']),
  profiles: z.array(z.enum(PROFILES)).min(1).default([...PROFILES]),
  approval: approvalRulesSchema.optional(),
  quotas: quotasSchema.optional(),
  destinationHosts: destinationHostsSchema.optional(),
  acme: z
    .strictObject({
      preauthorized: z.boolean().default(false),
      challengeTypes: z
        .array(z.enum(CHALLENGE_TYPES))
        .min(1, 'list at least one challenge type, or leave challengeTypes out for all of them')
        .max(CHALLENGE_TYPES.length)
        .refine((types) => new Set(types).size === types.length, 'challenge types must not repeat')
        .default([...CHALLENGE_TYPES]),
    })
    .optional(),
});

/** The policy with its cross-field rules; allowIpSans defaults to whether ranges are listed. */
export const checkedTeamPolicySchema = teamPolicySchema
  .refine((policy) => !(policy.allowIpSans === false && policy.allowedIpRanges?.length), {
    path: ['allowedIpRanges'],
    message: 'allowIpSans is false, which allows no IP address at all; drop allowedIpRanges or set allowIpSans to true',
  })
  .refine((policy) => policy.minValidity === undefined || policy.minValidity <= policy.maxValidity, {
    path: ['minValidity'],
    message: 'minValidity must not exceed maxValidity',
  })
  .refine((policy) => policy.defaultValidity === undefined || policy.defaultValidity <= policy.maxValidity, {
    path: ['defaultValidity'],
    message: 'defaultValidity must not exceed maxValidity',
  })
  .refine((policy) => policy.defaultValidity === undefined || policy.minValidity === undefined || policy.defaultValidity >= policy.minValidity, {
    path: ['defaultValidity'],
    message: 'defaultValidity must not be below minValidity',
  })
  .transform(({ allowIpSans, ...rest }) => ({ ...rest, allowIpSans: allowIpSans ?? (rest.allowedIpRanges?.length ?? 0) > 0 }));

export const createTeamSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and hyphens, starting with a letter or digit'),
  policy: checkedTeamPolicySchema.default(checkedTeamPolicySchema.parse({})),
});

/**
 * `PATCH /v1/teams/:id`: the policy fields to change, in the same shape as at creation. Each given
 * field replaces the stored one whole (allowedUris, quotas and approval included); `null` removes
 * an optional field (allowedIpRanges, allowedUris, minValidity, approval, quotas). The merged
 * policy is validated like a new one.
 */
export const patchTeamSchema = z.strictObject({
  policy: z.record(z.string(), z.unknown()),
});

export const createTokenSchema = z.strictObject({
  role: z.enum(ROLES),
  /** The principal (of the team) the token acts for; omitted: a new service principal of its own. */
  principalId: z.string().regex(/^prn_[a-z0-9]+$/, 'must be a principal id (prn_…)').optional(),
  expiresIn: duration('expiresIn').pipe(z.number().max(366 * 86_400, 'expiresIn must be at most a year; issue a new token instead')).optional(),
});

export const createPrincipalSchema = z.strictObject({
  kind: z.enum(PRINCIPAL_KINDS),
  name: z.string().trim().min(1).max(200),
  email: z.email().max(320).optional(),
  /** Team id or name; omitted: the caller's team (a platform admin: platform-wide). */
  team: z.string().min(1).max(100).optional(),
});

export const listPrincipalsQuery = z.strictObject({
  /** Team id or name (platform admins; others see their own team only). */
  team: z.string().min(1).max(100).optional(),
});

export const approvalDecisionSchema = z.strictObject({
  reason: z.string().trim().min(1, 'say why, for the audit log').max(1000),
});
