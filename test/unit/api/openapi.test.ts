/**
 * docs/openapi.json must describe the API the code serves. The app is built with dependencies that
 * throw when touched, so only its route table is inspected: no database, no Temporal. Checked here:
 * the document's own consistency (OpenAPI 3.1, every `$ref` resolves, path parameters declared),
 * the (method, path) operations against `app.routes` in both directions, which token each operation
 * takes, request bodies (with every nested object and each option of a discriminated union) and
 * query parameters against the zod schemas, enums against core/types.ts and the string unions of
 * core/, and response views against api/views.ts, api/routes/approvals.ts, api/agent-schemas.ts and
 * api/problem.ts.
 */
import { createContactSchema } from '../../../api/contact-schemas.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bulkItemsQuery, bulkOperationsQuery, createBulkReissueSchema } from '../../../api/bulk-schemas.js';
import { patchClusterSchema, registerClusterSchema } from '../../../api/cluster-schemas.js';
import { adoptSchema, importSchema, scanSchema } from '../../../api/inventory-schemas.js';
import { clusterView } from '../../../api/routes/clusters.js';
import { assignmentsSchema, deploymentReportSchema, registerAgentSchema, submitCsrSchema } from '../../../contracts/agent-wire.js';
import { createApp } from '../../../api/app.js';
import { createApiMetrics } from '../../../metrics/api-metrics.js';
import { createMetricsRegistry } from '../../../metrics/registry.js';
import { startCompromiseSchema } from '../../../api/routes/issuer-compromise.js';
import { listErrorsQuery } from '../../../api/routes/errors.js';
import type { ApiDeps } from '../../../api/deps.js';
import { idempotencyProblems } from '../../../api/idempotency.js';
import { startUnconfirmed } from '../../../api/certificate-creation.js';
import { checkDestinationHosts, destinationClaimed } from '../../../api/destination-checks.js';
import { ProblemError } from '../../../api/problem.js';
import { problems } from '../../../api/problem.js';
import { quotaExceeded } from '../../../api/quota-problem.js';
import { approvalView, auditEventView } from '../../../api/routes/approvals.js';
import { bulkItemView, bulkOperationView } from '../../../api/routes/bulk-reissues.js';
import {
  approvalDecisionSchema,
  auditEventsQuery,
  createCertificateSchema,
  createTeamSchema,
  createPrincipalSchema,
  patchTeamSchema,
  createTokenSchema,
  destinationSchema,
  listPrincipalsQuery,
  listCertificatesQuery,
  renewCertificateSchema,
  revokeCertificateSchema,
  teamPolicySchema,
} from '../../../api/schemas.js';
import { certificateView, destinationView, issuerView, versionView } from '../../../api/views.js';
import { CHALLENGE_TYPES } from '../../../core/acme-order.js';
import type { ApprovalReasonCode } from '../../../core/approval.js';
import { BULK_OUTCOMES, BULK_STATES, EMPTY_COUNTS, progressOf } from '../../../core/bulk.js';
import type { LifecycleStatus, LifecycleStep } from '../../../core/lifecycle.js';
import type { DestinationRefusalCode } from '../../../core/destination-hosts.js';
import type { PolicyViolationCode } from '../../../core/policy.js';
import {
  APPROVAL_STATES,
  CERT_STATES,
  CERTIFICATE_SOURCES,
  TRACKED_SOURCES,
  KEY_ALGORITHMS,
  KEY_SOURCES,
  PROFILES,
  REVOCATION_REASONS,
  ROLES,
  VERSION_STATUSES,
  type Destination,
  type VerifySpec,
} from '../../../core/types.js';
import type { AgentRow } from '../../../db/agents.js';
import type { ApprovalRow } from '../../../db/approvals.js';
import type { PrincipalRow } from '../../../db/principals.js';
import type { TokenRow } from '../../../db/tokens.js';
import { principalView } from '../../../api/routes/principals.js';
import { eabKeyView } from '../../../api/routes/acme-eab-keys.js';
import type { AcmeEabKeyRow } from '../../../db/acme-accounts.js';
import { agentView, tokenView } from '../../../api/routes/tokens.js';
import type { AuditEventRow } from '../../../db/audit.js';
import type { BulkItemRow, BulkOperationRow } from '../../../db/bulk.js';
import type { CertificateRow, VersionRow } from '../../../db/certificates.js';
import type { IssuerRow } from '../../../db/issuers.js';

interface SchemaObject {
  $ref?: string;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  default?: unknown;
  properties?: Record<string, SchemaObject>;
  required?: string[];
  additionalProperties?: boolean | SchemaObject;
  items?: SchemaObject;
  oneOf?: SchemaObject[];
  anyOf?: SchemaObject[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  writeOnly?: boolean;
}

interface ParameterObject {
  $ref?: string;
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema: SchemaObject;
}

interface ResponseObject {
  $ref?: string;
  description: string;
  content?: Record<string, { schema?: SchemaObject }>;
}

type SecurityRequirement = Record<string, string[]>;

interface OperationObject {
  operationId?: string;
  security?: SecurityRequirement[];
  parameters?: ParameterObject[];
  requestBody?: { required?: boolean; content: Record<string, { schema: SchemaObject }> };
  responses: Record<string, ResponseObject>;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type PathItemObject = { parameters?: ParameterObject[] } & Partial<Record<(typeof HTTP_METHODS)[number], OperationObject>>;

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  security?: SecurityRequirement[];
  paths: Record<string, PathItemObject>;
  components: { schemas: Record<string, SchemaObject>; [section: string]: Record<string, unknown> };
}

const SPEC_URL = new URL('../../../docs/openapi.json', import.meta.url);
const spec = JSON.parse(readFileSync(SPEC_URL, 'utf8')) as OpenApiDocument;

/** Resolves a local JSON pointer such as `#/components/schemas/Problem`; undefined when it points nowhere. */
function resolvePointer(ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = spec;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function deref<T extends { $ref?: string }>(node: T): T {
  let current = node;
  for (let hops = 0; current.$ref !== undefined; hops++) {
    if (hops > 10) throw new Error(`$ref cycle at ${node.$ref}`);
    const target = resolvePointer(current.$ref);
    if (target === undefined) throw new Error(`unresolved $ref ${current.$ref}`);
    current = target as T;
  }
  return current;
}

/** Every `$ref` value in the document, with the JSON path where it occurs. */
function collectRefs(node: unknown, path = '#'): Array<{ at: string; ref: string }> {
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string' ? [{ at: path, ref: value }] : collectRefs(value, `${path}/${key}`),
  );
}

function operations(): Array<{ key: string; path: string; pathItem: PathItemObject; operation: OperationObject }> {
  return Object.entries(spec.paths).flatMap(([path, pathItem]) =>
    HTTP_METHODS.flatMap((method) => {
      const operation = pathItem[method];
      return operation ? [{ key: `${method.toUpperCase()} ${path}`, path, pathItem, operation }] : [];
    }),
  );
}

function operation(key: string): OperationObject {
  const found = operations().find((candidate) => candidate.key === key);
  if (!found) throw new Error(`docs/openapi.json has no operation ${key}`);
  return found.operation;
}

function allowsNull(schema: SchemaObject): boolean {
  const resolved = deref(schema);
  const types = Array.isArray(resolved.type) ? resolved.type : [resolved.type];
  return types.includes('null') || [...(resolved.oneOf ?? []), ...(resolved.anyOf ?? [])].some(allowsNull);
}

const sorted = (values: Iterable<string>) => [...values].sort();

/** A dependency that fails loudly if the app touches it while the test only reads its routes. */
function unusable<T extends object>(name: string): T {
  return new Proxy({} as T, {
    get(_target, property) {
      throw new Error(`the OpenAPI test must not use deps.${name} (read .${String(property)})`);
    },
  });
}

function routeTableOfTheApp(): string[] {
  const fail = (what: string) => () => {
    throw new Error(`the OpenAPI test must not use deps.${what}`);
  };
  const deps: ApiDeps = {
    db: unusable<ApiDeps['db']>('db'),
    temporal: unusable<ApiDeps['temporal']>('temporal'),
    sealingPublicKey: null,
    temporalUiUrl: 'http://127.0.0.1:8233',
    fileDestinationRoot: '/nonexistent',
    destinationRules: { services: [], allowedExceptions: [], extraDenied: [] },
    get taskQueue(): string {
      return fail('taskQueue')();
    },
    now: fail('now'),
    checkReadiness: fail('checkReadiness'),
    // GET /metrics exists when the process has metrics (cmd/api-metrics.ts); building them touches no dependency.
    metrics: (() => {
      const registry = createMetricsRegistry();
      return { registry, api: createApiMetrics(registry), access: { token: null } };
    })(),
  };
  const app = createApp(deps, fail('log'));
  const routes = app.routes
    .filter((route) => !(route.method === 'ALL' && route.path.endsWith('*')))
    // The dashboard's HTML pages (api/ui/) are no part of the API; docs/operations.md describes them.
    .filter((route) => route.path !== '/ui' && !route.path.startsWith('/ui/'))
    .map((route) => `${route.method} ${route.path.replace(/:([A-Za-z0-9_]+)(?:\{[^}]*\})?/g, '{$1}')}`);
  return sorted(new Set(routes));
}

/** The schema a field parses its input with: through `.optional()`, `.default()` and into the input side of `.transform()`/`.pipe()`. */
function inputSchema(schema: z.core.$ZodType): z.core.$ZodType {
  const def = schema._zod.def;
  if (def.type === 'optional' || def.type === 'default') return inputSchema((def as z.core.$ZodOptionalDef).innerType);
  if (def.type === 'pipe') return inputSchema((def as z.core.$ZodPipeDef).in);
  return schema;
}

/** The zod object a request object parses with (a `.transform()`ed object counts as the object it transforms). */
function objectSchema(name: string, schema: z.core.$ZodType): z.ZodObject {
  const input = inputSchema(schema);
  if (!(input instanceof z.ZodObject)) throw new Error(`${name}: expected a zod object schema, got ${input._zod.def.type}`);
  return input;
}

/** The value of the discriminator of a union option, e.g. `file` of `type: z.literal('file')`. */
function discriminatorValue(name: string, option: z.ZodObject, discriminator: string): string {
  const literal = option.shape[discriminator];
  if (!(literal instanceof z.ZodLiteral) || literal.values.size !== 1) throw new Error(`${name}: ${discriminator} is not a single literal`);
  return String([...literal.values][0]);
}

/**
 * Compares the document with the zod schema of a field, where that schema is (through optional,
 * default and transform) an object, an array, or a discriminated union of objects.
 */
function expectSameNested(name: string, documented: SchemaObject | undefined, schema: z.core.$ZodType) {
  const input = inputSchema(schema);
  if (input instanceof z.ZodObject) {
    expect(documented, `${name}: documented`).toBeDefined();
    expectSameObject(name, documented!, input);
  } else if (input instanceof z.ZodDiscriminatedUnion) {
    expect(documented, `${name}: documented`).toBeDefined();
    expectSameUnion(name, documented!, input);
  } else if (input instanceof z.ZodArray) {
    expectSameNested(`${name}[]`, documented && deref(documented).items, input.element);
  }
}

/**
 * A discriminated union is a `oneOf` of one component per option, in the order of the options,
 * with an OpenAPI discriminator whose mapping names each option's literal; each component is
 * compared with its own option.
 */
function expectSameUnion(name: string, documented: SchemaObject, schema: z.ZodDiscriminatedUnion) {
  const union = deref(documented);
  const discriminator = schema._zod.def.discriminator;
  const options = schema.options.map((option, index) => objectSchema(`${name} option ${index}`, option));
  const values = options.map((option, index) => discriminatorValue(`${name} option ${index}`, option, discriminator));
  expect(union.discriminator?.propertyName, `${name}: discriminator`).toBe(discriminator);
  expect(Object.keys(union.discriminator?.mapping ?? {}), `${name}: discriminator mapping`).toEqual(values);
  const refs = (union.oneOf ?? []).map((option) => option.$ref);
  expect(refs, `${name}: one component per option, in order`).toEqual(values.map((value) => union.discriminator?.mapping?.[value]));
  options.forEach((option, index) => {
    const component = union.oneOf![index]!;
    const label = `${name} (${discriminator} ${values[index]})`;
    expect(deref(component).properties?.[discriminator]?.const, `${label}: ${discriminator}`).toBe(values[index]);
    expectSameObject(label, component, option);
  });
}

/**
 * Compares a strict JSON object schema of the document with the zod object schema the API parses
 * with, and then every nested object, array of objects and discriminated union the same way.
 */
function expectSameObject(name: string, documented: SchemaObject, schema: z.ZodObject) {
  const object = deref(documented);
  const shape: Record<string, z.core.$ZodType> = schema.shape;
  const keys = Object.keys(shape);
  expect(object.type, `${name}: type`).toBe('object');
  expect(object.additionalProperties, `${name}: additionalProperties`).toBe(false);
  expect(schema.def.catchall?._zod.def.type, `${name}: the zod schema is strict too`).toBe('never');
  expect(sorted(Object.keys(object.properties ?? {})), `${name}: properties`).toEqual(sorted(keys));
  const required = keys.filter((key) => shape[key]!._zod.optin === undefined);
  expect(sorted(object.required ?? []), `${name}: required`).toEqual(sorted(required));
  for (const key of keys) {
    const def = shape[key]!._zod.def;
    const property = object.properties?.[key];
    if (def.type === 'default') {
      expect(property?.default, `${name}.${key}: default`).toEqual((def as z.core.$ZodDefaultDef).defaultValue);
    } else {
      expect(property && 'default' in property, `${name}.${key} has no default in the code`).toBe(false);
    }
    expectSameNested(`${name}.${key}`, property, shape[key]!);
  }
}

/**
 * Compares a response object of the document with the zod schema the agent parses the answer with
 * (not strict: the agent tolerates new fields), nested arrays of objects included.
 */
function expectSameResponse(name: string, documented: SchemaObject, schema: z.ZodObject) {
  const object = deref(documented);
  const shape: Record<string, z.core.$ZodType> = schema.shape;
  const keys = Object.keys(shape);
  expect(object.type, `${name}: type`).toBe('object');
  expect(sorted(Object.keys(object.properties ?? {})), `${name}: properties`).toEqual(sorted(keys));
  expect(sorted(object.required ?? []), `${name}: required`).toEqual(sorted(keys.filter((key) => shape[key]!._zod.optout === undefined)));
  const nullable = keys.filter((key) => z.safeParse(shape[key]!, null).success);
  expect(sorted(keys.filter((key) => allowsNull(object.properties![key]!))), `${name}: nullable properties`).toEqual(sorted(nullable));
  for (const key of keys) {
    const field = shape[key]!;
    if (field instanceof z.ZodArray && field.element instanceof z.ZodObject) {
      expectSameResponse(`${name}.${key}[]`, deref(object.properties![key]!).items!, field.element);
    }
  }
}

/**
 * Each [schema name, view with every optional field empty, view with every field filled]: the schema
 * lists exactly the view's keys, all required, nullable exactly where the sparse view holds null.
 */
function expectSchemasMatchViews(cases: [string, Record<string, unknown>, Record<string, unknown>][]): void {
  for (const [name, sparse, full] of cases) {
    const schema = spec.components.schemas[name]!;
    const properties = schema.properties ?? {};
    expect(sorted(Object.keys(properties)), `${name}: properties`).toEqual(sorted(Object.keys(sparse)));
    expect(sorted(schema.required ?? []), `${name}: every key is always present`).toEqual(sorted(Object.keys(sparse)));
    const nullInCode = Object.keys(sparse).filter((key) => sparse[key] === null);
    const nullable = Object.keys(properties).filter((key) => allowsNull(properties[key]!));
    expect(sorted(nullable), `${name}: nullable properties`).toEqual(sorted(nullInCode));
    expect(Object.values(full).filter((value) => value === null), `${name}: the full fixture fills every field`).toEqual([]);
  }
}

/**
 * Lists every member of the string union T once, checked by the compiler (`npx tsc --noEmit`):
 * a list that misses a member does not compile, nor does one with a value outside T.
 */
function everyMemberOf<T extends string>() {
  return <const L extends readonly T[]>(values: L & ([Exclude<T, L[number]>] extends [never] ? unknown : { missing: Exclude<T, L[number]> })): readonly T[] =>
    values;
}

const LIFECYCLE_STEPS = everyMemberOf<LifecycleStep>()([
  'await-approval',
  'await-csr',
  'issue',
  'deliver',
  'verify',
  'rollback',
  'report',
  'wait-for-rollout-retry',
  'wait-for-renewal',
  'retry-backoff',
  'wait-for-operator',
  'revoke',
  'none',
]);
const APPROVAL_REASON_CODES = everyMemberOf<ApprovalReasonCode>()(['wildcard', 'outside_usual_zones', 'long_validity', 'new_name']);
const POLICY_VIOLATION_CODES = everyMemberOf<PolicyViolationCode>()([
  'profile_not_allowed',
  'key_algorithm_not_allowed',
  'validity_too_long',
  'validity_too_short',
  'wildcard_not_allowed',
  'name_outside_allowed_domains',
  'ip_sans_not_allowed',
  'ip_outside_allowed_ranges',
  'uri_sans_not_allowed',
  'uri_malformed',
  'uri_scheme_not_allowed',
  'uri_outside_allowed_spiffe',
  'uri_outside_allowed_https_hosts',
]);

describe('docs/openapi.json', () => {
  it('is an OpenAPI 3.1 document whose every $ref resolves and every component is used', () => {
    expect(spec.openapi).toMatch(/^3\.1\.\d+$/);
    expect(spec.info.title).toBeTruthy();
    expect(spec.info.version).toBeTruthy();

    const refs = collectRefs(spec);
    expect(refs.length).toBeGreaterThan(0);
    const unresolved = refs.filter(({ ref }) => resolvePointer(ref) === undefined);
    expect(unresolved, 'every $ref must be local and point at something').toEqual([]);

    const used = new Set(refs.map(({ ref }) => ref));
    const declared = Object.entries(spec.components).flatMap(([section, entries]) =>
      section === 'securitySchemes' ? [] : Object.keys(entries).map((name) => `#/components/${section}/${name}`),
    );
    expect(declared.filter((ref) => !used.has(ref)), 'unused components').toEqual([]);
  });

  it('declares each path template parameter as a required path parameter, and no others', () => {
    for (const { key, path, pathItem, operation } of operations()) {
      const parameters = [...(pathItem.parameters ?? []), ...(operation.parameters ?? [])].map((parameter) => deref(parameter));
      const inPath = parameters.filter((parameter) => parameter.in === 'path');
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
      expect(sorted(inPath.map((parameter) => parameter.name)), `${key}: path parameters`).toEqual(sorted(templated));
      for (const parameter of inPath) expect(parameter.required, `${key}: ${parameter.name} is required`).toBe(true);
    }
  });

  it('gives each operation a unique operationId, a 2xx response and problem+json errors', () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { key, operation } of operations()) {
      const statuses = Object.keys(operation.responses);
      expect(statuses.some((status) => /^2\d\d$/.test(status)), `${key}: a success response`).toBe(true);
      for (const status of statuses.filter((candidate) => Number(candidate) >= 400)) {
        const response = deref(operation.responses[status]!);
        expect(Object.keys(response.content ?? {}), `${key} ${status}: content types`).toEqual(['application/problem+json']);
        expect(response.content?.['application/problem+json']?.schema?.$ref, `${key} ${status}: schema`).toBe('#/components/schemas/Problem');
      }
    }
  });
});

describe('docs/openapi.json against the code', () => {
  it('documents exactly the routes the app registers', () => {
    const routes = routeTableOfTheApp();
    const documented = sorted(operations().map(({ key }) => key));
    expect(routes.length).toBeGreaterThan(0);
    expect(routes.filter((route) => !documented.includes(route)), 'routes missing from docs/openapi.json').toEqual([]);
    expect(documented.filter((route) => !routes.includes(route)), 'documented operations the app does not serve').toEqual([]);
  });

  it('asks for the agent token exactly on the agent endpoints, for an API token on the rest of /v1, for none elsewhere', () => {
    const schemes = spec.components['securitySchemes'] as Record<string, { type?: string; scheme?: string }>;
    expect(schemes['bearerAuth']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes['agentToken']).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const { key, path, operation } of operations()) {
      const security = operation.security ?? spec.security;
      // api/app.ts mounts the agent API (authenticateAgent) at /v1/agent, the API-token routes under /v1.
      if (path.startsWith('/v1/agent/')) expect(security, key).toEqual([{ agentToken: [] }]);
      // metrics/http.ts: CERTFLOW_METRICS_TOKEN when configured, else none.
      else if (path === '/metrics') expect(security, key).toEqual([{}, { metricsToken: [] }]);
      // api/app.ts mounts the login discovery (authDiscoveryRoutes) before the API-token middleware.
      else if (path === '/v1/auth/oidc') expect(security, key).toEqual([]);
      else if (path.startsWith('/v1/')) expect(security, key).toEqual([{ bearerAuth: [] }]);
      else expect(security, key).toEqual([]);
    }
  });

  const bodies: Array<[string, z.ZodObject]> = [
    ['POST /v1/certificates', createCertificateSchema],
    ['POST /v1/issuers/{id}/compromise', startCompromiseSchema],
    ['POST /v1/certificates/{id}/renew', renewCertificateSchema],
    ['POST /v1/certificates/{id}/revoke', revokeCertificateSchema],
    ['POST /v1/teams', createTeamSchema],
    ['PATCH /v1/teams/{id}', patchTeamSchema],
    ['POST /v1/teams/{id}/tokens', createTokenSchema],
    ['POST /v1/certificates/{id}/approve', approvalDecisionSchema],
    ['POST /v1/certificates/{id}/reject', approvalDecisionSchema],
    ['POST /v1/agents', registerAgentSchema],
    ['POST /v1/principals', createPrincipalSchema],
    ['POST /v1/agent/csr', submitCsrSchema],
    ['POST /v1/agent/deployments/{deliveryId}/report', deploymentReportSchema],
    ['POST /v1/bulk-reissues', createBulkReissueSchema],
    ['POST /v1/clusters', registerClusterSchema],
    ['POST /v1/teams/{id}/imports', importSchema],
    ['POST /v1/teams/{id}/scans', scanSchema],
    ['POST /v1/certificates/{id}/adopt', adoptSchema],
    ['PATCH /v1/clusters/{id}', patchClusterSchema],
  ];

  it('documents a request body exactly on the operations that parse one', () => {
    const withBody = operations().filter(({ operation }) => operation.requestBody !== undefined);
    // The OCSP responder reads a DER OCSPRequest (binary, parsed by ca/ocsp.ts); every other body is JSON.
    const binary = ['POST /pki/ocsp'];
    const unions = ['POST /v1/teams/{id}/contacts'];
    expect(sorted(withBody.map(({ key }) => key))).toEqual(sorted([...bodies.map(([key]) => key), ...unions, ...binary]));
    for (const key of binary) expect(Object.keys(operation(key).requestBody!.content)).toEqual(['application/ocsp-request']);
  });

  it.each(bodies)('documents the JSON body of %s with the fields of its zod schema', (key, schema) => {
    const body = operation(key).requestBody!;
    expect(Object.keys(body.content)).toEqual(['application/json']);
    expect(body.content['application/json']!.schema.$ref, 'a named component schema').toMatch(/^#\/components\/schemas\//);
    expectSameObject(key, body.content['application/json']!.schema, schema);
  });

  it('documents the body of POST /v1/teams/{id}/contacts as the union its zod schema parses', () => {
    const body = operation('POST /v1/teams/{id}/contacts').requestBody!;
    expect(Object.keys(body.content)).toEqual(['application/json']);
    expect(body.content['application/json']!.schema.$ref).toBe('#/components/schemas/TeamContactCreate');
    expectSameUnion('TeamContactCreate', body.content['application/json']!.schema, createContactSchema);
  });

  it('documents the nested request objects with the fields of their zod schemas', () => {
    const schemas = spec.components.schemas;
    expectSameObject('TeamPolicyInput', schemas['TeamPolicyInput']!, teamPolicySchema);
    expect(deref(schemas['CreateTeamRequest']!.properties!['policy']!)).toBe(schemas['TeamPolicyInput']);
    expect(deref(schemas['TeamPolicyInput']!.properties!['approval']!)).toBe(schemas['ApprovalRulesInput']);
    expect(deref(schemas['TeamPolicyInput']!.properties!['acme']!)).toBe(schemas['AcmePolicyInput']);
    expectSameObject('AcmePolicyInput', schemas['AcmePolicyInput']!, objectSchema('acme', teamPolicySchema.shape.acme));
    expectSameObject('ApprovalRulesInput', schemas['ApprovalRulesInput']!, objectSchema('approval', teamPolicySchema.shape.approval));

    // One component per destination type, each checked against its own option of the union.
    const components: Record<string, string> = { file: 'FileDestination', agent: 'AgentDestination', webhook: 'WebhookDestination', kubernetes: 'KubernetesDestination' };
    const options = destinationSchema.options.map((option, index) => objectSchema(`destination option ${index}`, option));
    const types = options.map((option, index) => discriminatorValue(`destination option ${index}`, option, 'type'));
    expect(types, 'a component is named here for every destination type').toEqual(Object.keys(components));
    const destinations = deref(schemas['CreateCertificateRequest']!.properties!['destinations']!.items!);
    expect(destinations).toBe(schemas['Destination']);
    expect(destinations.oneOf?.map((option) => deref(option))).toEqual(types.map((type) => schemas[components[type]!]));
    expectSameUnion('Destination', destinations, destinationSchema);
    options.forEach((option, index) => {
      const name = components[types[index]!]!;
      expectSameObject(name, schemas[name]!, option);
      expect(deref(schemas[name]!.properties!['verify']!), `${name}.verify`).toBe(schemas['VerifyInput']);
      expectSameObject('VerifyInput', schemas['VerifyInput']!, objectSchema(`${name}.verify`, option.shape['verify']!));
    });
    expect(deref(schemas['VerifyInput']!.properties!['endpoints']!.items!)).toBe(schemas['TlsEndpoint']);
    expect(deref(schemas['FileDestination']!.properties!['owner']!)).toBe(schemas['FileOwner']);
    expect(deref(schemas['KubernetesDestination']!.properties!['rolloutRestart']!.items!)).toBe(schemas['RolloutRestart']);
    // The webhook secret goes in and never comes out.
    expect(schemas['WebhookDestination']!.properties!['secret']!.writeOnly).toBe(true);
  });

  const queries: Array<[string, z.ZodObject]> = [
    ['GET /v1/certificates', listCertificatesQuery],
    ['GET /v1/bulk-reissues', bulkOperationsQuery],
    ['GET /v1/bulk-reissues/{id}', bulkItemsQuery],
    ['GET /v1/certificates/{id}/audit-events', auditEventsQuery],
    ['GET /v1/principals', listPrincipalsQuery],
    ['GET /v1/errors', listErrorsQuery],
  ];

  it.each(queries)('documents the query parameters of %s as its zod schema', (key, schema) => {
    const { parameters = [] } = operation(key);
    const query = parameters.map((parameter) => deref(parameter)).filter((parameter) => parameter.in === 'query');
    const shape: Record<string, z.core.$ZodType> = schema.shape;
    expect(sorted(query.map((parameter) => parameter.name))).toEqual(sorted(Object.keys(shape)));
    for (const parameter of query) {
      const def = shape[parameter.name]!._zod.def;
      expect(parameter.required ?? false, `${parameter.name}: required`).toBe(shape[parameter.name]!._zod.optin === undefined);
      if (def.type === 'default') expect(parameter.schema.default, `${parameter.name}: default`).toEqual((def as z.core.$ZodDefaultDef).defaultValue);
    }
  });

  it('documents no query string on the operations that read none', () => {
    for (const other of operations().filter(({ key }) => !queries.some(([withQuery]) => withQuery === key))) {
      const all = [...(other.pathItem.parameters ?? []), ...(other.operation.parameters ?? [])].map((parameter) => deref(parameter));
      expect(all.filter((parameter) => parameter.in === 'query'), `${other.key} reads no query string`).toEqual([]);
    }
  });

  it('uses the enums of core/types.ts', () => {
    const enums: Array<[string, readonly string[]]> = [
      ['Profile', PROFILES],
      ['KeyAlgorithm', KEY_ALGORITHMS],
      ['Role', ROLES],
      ['CertState', CERT_STATES],
      ['VersionStatus', VERSION_STATUSES],
      ['RevocationReason', REVOCATION_REASONS],
      ['KeySource', KEY_SOURCES],
      ['CertificateSource', [...CERTIFICATE_SOURCES, ...TRACKED_SOURCES]],
      ['ChallengeType', CHALLENGE_TYPES],
      ['ApprovalState', APPROVAL_STATES],
      ['LifecycleStep', LIFECYCLE_STEPS],
      ['ApprovalReasonCode', APPROVAL_REASON_CODES],
      ['PolicyViolationCode', POLICY_VIOLATION_CODES],
      ['BulkState', BULK_STATES],
      ['BulkOutcome', BULK_OUTCOMES],
    ];
    for (const [name, values] of enums) expect(spec.components.schemas[name]?.enum, name).toEqual([...values]);
    expect(deref(spec.components.schemas['Certificate']!.properties!['keySource']!)).toBe(spec.components.schemas['KeySource']);
    expect(deref(spec.components.schemas['Certificate']!.properties!['source']!)).toBe(spec.components.schemas['CertificateSource']);
    expect(deref(spec.components.schemas['AcmePolicyInput']!.properties!['challengeTypes']!.items!)).toBe(spec.components.schemas['ChallengeType']);
    expect(deref(spec.components.schemas['AcmePolicy']!.properties!['challengeTypes']!.items!)).toBe(spec.components.schemas['ChallengeType']);
    expect(deref(spec.components.schemas['Approval']!.properties!['state']!)).toBe(spec.components.schemas['ApprovalState']);
    expect(deref(spec.components.schemas['BulkOperation']!.properties!['state']!)).toBe(spec.components.schemas['BulkState']);
    expect(deref(spec.components.schemas['BulkProgress']!.properties!['state']!)).toBe(spec.components.schemas['BulkState']);
    expect(spec.components.schemas['BulkItem']!.properties!['outcome']!.oneOf?.[0]?.$ref).toBe('#/components/schemas/BulkOutcome');
  });

  it('describes the bulk operation, its items, counts and progress with the keys the code returns, nullable exactly where null occurs', () => {
    const at = new Date('2026-03-01T12:00:00.000Z');
    const row: BulkOperationRow = {
      id: 'blk_test',
      selector: { teamIds: ['team_test'] },
      options: { reason: 'r', maxConcurrent: 1, maxPerSecond: 1, revokeSuperseded: false },
      state: 'running',
      counts: { ...EMPTY_COUNTS },
      workflowId: 'bulk/blk_test',
      teamId: 'team_test',
      createdBy: 'tok_test',
      createdAt: at,
      finishedAt: null,
    };
    const item: BulkItemRow = { bulkId: 'blk_test', certificateId: 'crt_test', oldVersionId: null, newVersionId: null, outcome: null, reason: null, revokedAt: null, signalledAt: null, updatedAt: at };
    const carry = { after: null, exhausted: false, counts: { ...EMPTY_COUNTS }, inFlight: [], paused: false, cancelRequested: false, startedAt: at.toISOString() };
    // GET /v1/bulk-reissues/{id} answers the stored view plus the live progress and a page of items.
    const operationView = (progress: ReturnType<typeof progressOf> | null, nextCursor: string | null) => ({ ...bulkOperationView(row), progress, acmeClients: { signalled: 0, awaitingClient: 0 }, items: [], nextCursor });
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      ['BulkOperation', operationView(null, null), { ...operationView(progressOf('blk_test', 'running', carry, at.getTime()), 'crt_test'), finishedAt: at.toISOString() }],
      ['BulkItem', bulkItemView(item), bulkItemView({ ...item, oldVersionId: 'ver_1', newVersionId: 'ver_2', outcome: 'failed', reason: 'x', revokedAt: at, signalledAt: at })],
      ['BulkProgress', { ...progressOf('blk_test', 'running', carry, at.getTime()) }, { ...progressOf('blk_test', 'running', carry, at.getTime(), { step: 'send-renewals', type: 'Error', message: 'x', attempt: 1, at: at.toISOString() }), etaAt: at.toISOString() }],
      ['BulkCounts', { ...EMPTY_COUNTS }, { ...EMPTY_COUNTS }],
    ];
    expectSchemasMatchViews(cases);
  });

  it('describes the certificate, version, issuer, approval and audit event views with the keys they return, nullable exactly where null occurs', () => {
    const at = new Date('2026-03-01T12:00:00.000Z');
    const certificate: CertificateRow = {
      id: 'crt_test',
      teamId: 'team_test',
      commonName: null,
      dnsNames: ['a.example.test'],
      ipAddresses: [],
      uris: [],
      profile: 'tls-server',
      keyAlgorithm: 'ECDSA-P256',
      validitySeconds: 86_400,
      renewBeforeSeconds: null,
      csrPem: null,
      keySource: 'server',
      destinations: [],
      state: 'pending',
      source: 'api',
      acmeAccountId: null,
      kubernetes: null,
      renewalRequestedAt: null,
      renewalRequestReason: null,
      currentVersionId: null,
      workflowId: 'certificate/crt_test',
      requestedBy: 'tok_test',
      requestedByPrincipal: 'prn_test',
      revokedAt: null,
      revocationReason: null,
      createdAt: at,
      updatedAt: at,
    };
    const version: VersionRow = {
      id: 'ver_test',
      certificateId: 'crt_test',
      generation: 1,
      issuerId: 'iss_test',
      serial: '7f01',
      certificatePem: '-----BEGIN CERTIFICATE-----',
      notBefore: at,
      notAfter: at,
      fingerprintSha256: '00'.repeat(32),
      status: 'active',
      revokedAt: null,
      revocationReason: null,
      createdAt: at,
    };
    const live: LifecycleStatus = {
      certificateId: 'crt_test',
      state: 'active',
      generation: 1,
      pendingStep: 'wait-for-renewal',
      currentVersion: null,
      nextRenewalAt: at.toISOString(),
      nextRetryAt: at.toISOString(),
      attempt: 0,
      lastError: { type: 'Error', message: 'x', at: at.toISOString(), attempt: 1 },
      revokedAt: null,
    };
    const issuer: IssuerRow = {
      id: 'iss_test',
      kind: 'root',
      parentId: null,
      status: 'active',
      commonName: 'Test Root',
      keyAlgorithm: 'ECDSA-P384',
      certificatePem: '-----BEGIN CERTIFICATE-----',
      keyBackend: 'software',
      keyRef: null,
      sealedPrivateKey: 'sealed',
      notBefore: at,
      notAfter: at,
      revokedAt: null,
      revocationReason: null,
      createdAt: at,
    };
    const approval: ApprovalRow = {
      id: 'apr_test',
      certificateId: 'crt_test',
      generation: 1,
      teamId: 'team_test',
      state: 'pending',
      reasons: [{ code: 'wildcard', message: 'm' }],
      requestedBy: 'tok_test',
      requestedAt: at,
      deadlineAt: at,
      escalatedAt: null,
      decidedBy: null,
      decidedAt: null,
      decisionReason: null,
    };
    const event: AuditEventRow = {
      seq: 1,
      at,
      actor: 'workflow',
      action: 'certificate.issued',
      teamId: null,
      certificateId: null,
      details: {},
      dedupeKey: null,
      prevHash: '0'.repeat(64),
      hash: '00'.repeat(32),
      principalId: null,
      chainVersion: 2,
      mac: '00'.repeat(32),
    };

    const principal: PrincipalRow = { id: 'prn_test', kind: 'person', name: 'Alice', email: null, teamId: null, oidcIssuer: null, oidcSubject: null, createdAt: at, disabledAt: null, accountableTo: null };
    const token: TokenRow = { id: 'tok_test', teamId: null, principalId: 'prn_test', role: 'admin', tokenHash: 'h', createdAt: at, expiresAt: null, lastUsedAt: null, revokedAt: null };
    const agent: AgentRow = { id: 'agt_test', teamId: 'team_test', name: 'host', tokenHash: 'h', createdAt: at, lastSeenAt: null, revokedAt: null };
    const eabKey: AcmeEabKeyRow = { id: 'eab_test', teamId: 'team_test', createdByPrincipal: 'prn_test', createdAt: at, lastUsedAt: null, revokedAt: null };
    const hmacKey = Buffer.alloc(32).toString('base64url');

    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      [
        'Certificate',
        certificateView(certificate, null, null),
        certificateView(
          {
            ...certificate,
            commonName: 'a.example.test',
            renewBeforeSeconds: 60,
            source: 'acme',
            keySource: 'acme',
            acmeAccountId: 'acct_test',
            // Only a kubernetes certificate has both; the shape is what is checked here.
            kubernetes: { cluster: 'prod', namespace: 'shop', name: 'web', certificateRequest: 'web-1', uid: '00000000-0000-0000-0000-000000000000' },
            renewalRequestedAt: at,
            renewalRequestReason: 'bulk reissue',
          },
          version,
          live,
          {
          baseUrl: 'http://127.0.0.1:8233',
          namespace: 'default',
        }),
      ],
      // Sparse: an imported certificate's version (no Certflow issuer).
      ['CertificateVersion', versionView({ ...version, issuerId: null }), versionView({ ...version, status: 'revoked', revokedAt: at, revocationReason: 'keyCompromise' })],
      ['Issuer', issuerView(issuer), issuerView({ ...issuer, kind: 'intermediate', parentId: 'iss_root' })],
      ['Approval', approvalView(approval), approvalView({ ...approval, state: 'approved', escalatedAt: at, decidedBy: 'tok_approver', decidedAt: at, decisionReason: 'ok' })],
      ['AuditEvent', auditEventView(event), auditEventView({ ...event, teamId: 'team_test', certificateId: 'crt_test', principalId: 'prn_test' })],
      ['Principal', principalView(principal), principalView({ ...principal, email: 'a@example.test', teamId: 'team_test', disabledAt: at, accountableTo: 'prn_admin' })],
      ['TokenInfo', tokenView(token), tokenView({ ...token, teamId: 'team_test', expiresAt: at, lastUsedAt: at, revokedAt: at })],
      ['AgentInfo', agentView(agent), agentView({ ...agent, lastSeenAt: at, revokedAt: at })],
      [
        'Cluster',
        clusterView({ id: 'kcl_test', name: 'prod', apiUrl: 'https://k8s.example.test', caBundlePem: 'PEM', sealedToken: 'sealed', createdAt: at, updatedAt: at }, []),
        clusterView({ id: 'kcl_test', name: 'prod', apiUrl: 'https://k8s.example.test', caBundlePem: 'PEM', sealedToken: 'sealed', createdAt: at, updatedAt: at }, [
          { teamId: 'team_test', teamName: 'payments', namespaces: ['apps'] },
        ]),
      ],
      ['AcmeEabKey', eabKeyView(eabKey), eabKeyView({ ...eabKey, lastUsedAt: at, revokedAt: at })],
      ['AcmeEabKeyCreated', { ...eabKeyView(eabKey), hmacKey }, { ...eabKeyView({ ...eabKey, lastUsedAt: at, revokedAt: at }), hmacKey }],
    ];
    expectSchemasMatchViews(cases);
  });

  it('describes each destination view with the keys api/views.ts returns, and never a secret', () => {
    const schemas = spec.components.schemas;
    const verify: VerifySpec = { endpoints: [{ host: '192.0.2.10', port: 443, serverName: 'a.example.test' }], timeoutSeconds: 300 };
    const agentId = `agt_${'a'.repeat(20)}`;
    // [component, the destination with only its required fields, the destination with every field]
    const cases: Array<[string, Destination, Destination]> = [
      ['FileDestinationView', { type: 'file', directory: 'a' }, { type: 'file', directory: 'a', owner: { uid: 1, gid: 1 }, verify }],
      ['AgentDestinationView', { type: 'agent', agentId, target: 't', reportTimeoutSeconds: 600 }, { type: 'agent', agentId, target: 't', reportTimeoutSeconds: 600, verify }],
      [
        'WebhookDestinationView',
        { type: 'webhook', url: 'https://hooks.example.test/', sealedSecret: 'sealed' },
        { type: 'webhook', url: 'https://hooks.example.test/', sealedSecret: 'sealed', verify },
      ],
      [
        'KubernetesDestinationView',
        { type: 'kubernetes', cluster: 'prod', namespace: 'apps', secretName: 'web-tls' },
        { type: 'kubernetes', cluster: 'prod', namespace: 'apps', secretName: 'web-tls', rolloutRestart: [{ kind: 'Deployment', name: 'web' }], verify },
      ],
    ];
    const types = destinationSchema.options.map((option, index) => discriminatorValue(`destination option ${index}`, objectSchema(`destination option ${index}`, option), 'type'));
    expect(cases.map(([, destination]) => destination.type), 'a case for every destination type').toEqual(types);

    const union = deref(schemas['Certificate']!.properties!['destinations']!.items!);
    expect(union).toBe(schemas['DestinationView']);
    expect(union.oneOf?.map((option) => option.$ref)).toEqual(cases.map(([name]) => `#/components/schemas/${name}`));
    expect(union.discriminator).toEqual({ propertyName: 'type', mapping: Object.fromEntries(cases.map(([name, destination]) => [destination.type, `#/components/schemas/${name}`])) });

    for (const [name, sparse, full] of cases) {
      const schema = schemas[name]!;
      const sparseView: object = destinationView(sparse);
      const fullView: object = destinationView(full);
      expect(sorted(Object.keys(schema.properties ?? {})), `${name}: properties`).toEqual(sorted(Object.keys(fullView)));
      expect(sorted(schema.required ?? []), `${name}: required`).toEqual(sorted(Object.keys(sparseView)));
      expect(schema.properties?.['type']?.const, `${name}: type`).toBe(full.type);
      for (const secret of ['secret', 'sealedSecret']) {
        expect(fullView, `${name}: the view shows no ${secret}`).not.toHaveProperty(secret);
        expect(schema.properties ?? {}, `${name}: documents no ${secret}`).not.toHaveProperty(secret);
      }
      expect(deref(schema.properties!['verify']!), `${name}.verify`).toBe(schemas['Verify']);
    }
    const verifyView = schemas['Verify']!;
    expect(sorted(Object.keys(verifyView.properties ?? {}))).toEqual(sorted(Object.keys(verify)));
    expect(sorted(verifyView.required ?? [])).toEqual(sorted(Object.keys(verify)));
    expect(deref(verifyView.properties!['endpoints']!.items!)).toBe(schemas['TlsEndpoint']);
    expect(deref(schemas['FileDestinationView']!.properties!['owner']!)).toBe(schemas['FileOwner']);
  });

  it('describes the assignments of GET /v1/agent/assignments with the zod schemas the agent parses them with', () => {
    const response = operation('GET /v1/agent/assignments').responses['200']!;
    const schema = deref(response).content?.['application/json']?.schema;
    expect(schema?.$ref).toBe('#/components/schemas/AgentAssignments');
    expectSameResponse('AgentAssignments', schema!, assignmentsSchema);
    expect(deref(deref(schema!).properties!['deployments']!.items!).properties?.['keySource']?.$ref).toBe('#/components/schemas/KeySource');
  });

  it('describes every member of the problem bodies api/problem.ts produces', () => {
    const schema = spec.components.schemas['Problem']!;
    const bodies = [
      problems.validation('d', [{ field: 'f', message: 'm' }]),
      problems.validation('d'),
      problems.malformedJson('d'),
      problems.unsupportedMediaType(),
      problems.payloadTooLarge(1),
      problems.unauthenticated('d'),
      problems.forbidden('d'),
      problems.policyViolation('validity_too_long', 'd'),
      problems.policyViolation('uri_malformed', 'd', [{ field: 'uris/0', message: 'm', code: 'uri_malformed' }]),
      quotaExceeded({ quota: 'maxActiveCertificates', limit: 1, current: 1, message: 'm' }),
      quotaExceeded({ quota: 'maxRenewalsPerHour', limit: 1, current: 1, message: 'm', retryAfterSeconds: 60 }),
      problems.notFound('d'),
      problems.conflict('d'),
      problems.unavailable('d'),
      idempotencyProblems.inProgress('k'),
      idempotencyProblems.reusedWithAnotherRequest('k'),
      startUnconfirmed({ certificateId: 'crt_x', workflowId: 'certificate/crt_x' }, 'd'),
      destinationClaimed({ index: 0, key: 'file:/r/x', ownerCertificateId: 'crt_x', ownerTeamId: 'team_a', ownerTeamName: 'a' }, { type: 'file', directory: 'x' }, 'team_a'),
      hostRefusal(),
    ].map((problem) => problem.toBody());
    for (const body of bodies) {
      expect(sorted(Object.keys(body)).filter((key) => !(key in (schema.properties ?? {}))), body.type).toEqual([]);
      for (const key of schema.required ?? []) expect(body, body.type).toHaveProperty(key);
      expect(body.type).toMatch(/^\/problems\/[a-z-]+$/);
    }
    expect(sorted(Object.keys(deref(schema.properties!['errors']!.items!).properties ?? {}))).toEqual(['code', 'field', 'message']);
  });

  it('lists every destination refusal code', () => {
    const codes: DestinationRefusalCode[] = ['host_invalid', 'address_denied', 'platform_service', 'no_destination_policy', 'host_not_allowed', 'address_not_allowed', 'port_not_allowed'];
    expect(sorted(spec.components.schemas['DestinationRefusalCode']!.enum as string[])).toEqual(sorted(codes));
    expect(hostRefusal().toBody().errors?.[0]).toEqual({ field: 'destinations/0/url', code: 'address_denied', message: expect.any(String) });
  });
});

/** The problem of a webhook to the metadata address. */
function hostRefusal(): ProblemError {
  try {
    checkDestinationHosts([{ type: 'webhook', url: 'http://169.254.169.254/', secret: 's'.repeat(32) }], { zones: [], cidrs: ['169.254.0.0/16'], ports: [] }, { services: [], allowedExceptions: [], extraDenied: [] });
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}
