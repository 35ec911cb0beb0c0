/**
 * docs/openapi.json must describe the API the code serves. The app is built with dependencies that
 * throw when touched, so only its route table is inspected: no database, no Temporal. Checked here:
 * the document's own consistency (OpenAPI 3.1, every `$ref` resolves, path parameters declared),
 * the (method, path) operations against `app.routes` in both directions, request bodies and query
 * parameters against the zod schemas, enums against core/types.ts, and response views against
 * api/views.ts and api/problem.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createApp } from '../../../api/app.js';
import type { ApiDeps } from '../../../api/deps.js';
import { problems } from '../../../api/problem.js';
import {
  createCertificateSchema,
  createTeamSchema,
  createTokenSchema,
  destinationSchema,
  listCertificatesQuery,
  renewCertificateSchema,
  revokeCertificateSchema,
  teamPolicySchema,
} from '../../../api/schemas.js';
import { certificateView, issuerView, versionView } from '../../../api/views.js';
import type { LifecycleStatus } from '../../../core/lifecycle.js';
import { CERT_STATES, KEY_ALGORITHMS, PROFILES, REVOCATION_REASONS, ROLES, VERSION_STATUSES } from '../../../core/types.js';
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

interface OperationObject {
  operationId?: string;
  parameters?: ParameterObject[];
  requestBody?: { required?: boolean; content: Record<string, { schema: SchemaObject }> };
  responses: Record<string, ResponseObject>;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type PathItemObject = { parameters?: ParameterObject[] } & Partial<Record<(typeof HTTP_METHODS)[number], OperationObject>>;

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
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
    secretsKey: Buffer.alloc(32),
    temporalUiUrl: 'http://127.0.0.1:8233',
    get taskQueue(): string {
      return fail('taskQueue')();
    },
    now: fail('now'),
    checkReadiness: fail('checkReadiness'),
  };
  const app = createApp(deps, fail('log'));
  const routes = app.routes
    .filter((route) => !(route.method === 'ALL' && route.path.endsWith('*')))
    .map((route) => `${route.method} ${route.path.replace(/:([A-Za-z0-9_]+)(?:\{[^}]*\})?/g, '{$1}')}`);
  return sorted(new Set(routes));
}

/** Compares a strict JSON object schema of the document with the zod object schema the API parses with. */
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
  }
}

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

  const bodies: Array<[string, z.ZodObject]> = [
    ['POST /v1/certificates', createCertificateSchema],
    ['POST /v1/certificates/{id}/renew', renewCertificateSchema],
    ['POST /v1/certificates/{id}/revoke', revokeCertificateSchema],
    ['POST /v1/teams', createTeamSchema],
    ['POST /v1/teams/{id}/tokens', createTokenSchema],
  ];

  it('documents a request body exactly on the operations that parse one', () => {
    const withBody = operations().filter(({ operation }) => operation.requestBody !== undefined);
    // The OCSP responder reads a DER OCSPRequest (binary, parsed by ca/ocsp.ts); every other body is JSON.
    const binary = ['POST /pki/ocsp'];
    expect(sorted(withBody.map(({ key }) => key))).toEqual(sorted([...bodies.map(([key]) => key), ...binary]));
    for (const key of binary) expect(Object.keys(operation(key).requestBody!.content)).toEqual(['application/ocsp-request']);
  });

  it.each(bodies)('documents the JSON body of %s with the fields of its zod schema', (key, schema) => {
    const body = operation(key).requestBody!;
    expect(Object.keys(body.content)).toEqual(['application/json']);
    expect(body.content['application/json']!.schema.$ref, 'a named component schema').toMatch(/^#\/components\/schemas\//);
    expectSameObject(key, body.content['application/json']!.schema, schema);
  });

  it('documents the nested request objects with the fields of their zod schemas', () => {
    const fileDestination = destinationSchema.options[0];
    expectSameObject('TeamPolicyInput', spec.components.schemas['TeamPolicyInput']!, teamPolicySchema);
    expectSameObject('FileDestination', spec.components.schemas['FileDestination']!, fileDestination);
    expect(deref(spec.components.schemas['CreateTeamRequest']!.properties!['policy']!)).toBe(spec.components.schemas['TeamPolicyInput']);
    const destinations = deref(spec.components.schemas['CreateCertificateRequest']!.properties!['destinations']!.items!);
    expect(destinations.oneOf?.map((option) => deref(option))).toEqual([spec.components.schemas['FileDestination']]);
    expect(destinationSchema.options).toHaveLength(1);
  });

  it('documents the query parameters of GET /v1/certificates as listCertificatesQuery', () => {
    const { parameters = [] } = operation('GET /v1/certificates');
    const query = parameters.map((parameter) => deref(parameter)).filter((parameter) => parameter.in === 'query');
    const shape: Record<string, z.core.$ZodType> = listCertificatesQuery.shape;
    expect(sorted(query.map((parameter) => parameter.name))).toEqual(sorted(Object.keys(shape)));
    for (const parameter of query) {
      const def = shape[parameter.name]!._zod.def;
      expect(parameter.required ?? false, `${parameter.name}: required`).toBe(shape[parameter.name]!._zod.optin === undefined);
      if (def.type === 'default') expect(parameter.schema.default, `${parameter.name}: default`).toEqual((def as z.core.$ZodDefaultDef).defaultValue);
    }
    for (const other of operations().filter(({ key }) => key !== 'GET /v1/certificates')) {
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
    ];
    for (const [name, values] of enums) expect(spec.components.schemas[name]?.enum, name).toEqual([...values]);
  });

  it('describes the certificate, version and issuer views with the keys api/views.ts returns, nullable exactly where null occurs', () => {
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
      currentVersionId: null,
      workflowId: 'certificate/crt_test',
      requestedBy: 'tok_test',
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
      sealedPrivateKey: 'sealed',
      notBefore: at,
      notAfter: at,
      revokedAt: null,
      revocationReason: null,
      createdAt: at,
    };

    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
      ['Certificate', certificateView(certificate, null, null), certificateView({ ...certificate, commonName: 'a.example.test', renewBeforeSeconds: 60 }, version, live, { baseUrl: 'http://127.0.0.1:8233', namespace: 'default' })],
      ['CertificateVersion', versionView(version), versionView({ ...version, status: 'revoked', revokedAt: at, revocationReason: 'keyCompromise' })],
      ['Issuer', issuerView(issuer), issuerView({ ...issuer, kind: 'intermediate', parentId: 'iss_root' })],
    ];
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
      problems.notFound('d'),
      problems.conflict('d'),
      problems.unavailable('d'),
    ].map((problem) => problem.toBody());
    for (const body of bodies) {
      expect(sorted(Object.keys(body)).filter((key) => !(key in (schema.properties ?? {}))), body.type).toEqual([]);
      for (const key of schema.required ?? []) expect(body, body.type).toHaveProperty(key);
      expect(body.type).toMatch(/^\/problems\/[a-z-]+$/);
    }
    expect(sorted(Object.keys(deref(schema.properties!['errors']!.items!).properties ?? {}))).toEqual(['field', 'message']);
  });
});
