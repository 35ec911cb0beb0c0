/**
 * `/v1/clusters`: Kubernetes clusters that `kubernetes` destinations deliver Secrets to. A platform
 * admin registers one (API URL, CA bundle, service-account token) and grants namespaces to teams;
 * the token is sealed to the worker's sealing key here and never shown again (this API cannot open
 * it). A team's tokens see the clusters where it has namespaces, and only its own namespaces.
 */
import { Hono } from 'hono';
import { sealClusterToken } from '../../ca/destination-secrets.js';
import { checkPlatformRules, registeredClusterRules } from '../../core/destination-hosts.js';
import { appendAuditEvent } from '../../db/audit.js';
import { newId } from '../../db/ids.js';
import { findCluster, grantsOf, insertCluster, listClusters, updateCluster, type ClusterRow, type NamespaceGrant } from '../../db/kubernetes-clusters.js';
import { findTeam, findTeamByName } from '../../db/teams.js';
import { auditActor } from '../audit-actor.js';
import { isPlatformAdmin, requireRole } from '../auth.js';
import { patchClusterSchema, registerClusterSchema } from '../cluster-schemas.js';
import type { ApiDeps, AppEnv, Principal } from '../deps.js';
import { problems, type FieldProblem } from '../problem.js';
import { parseJsonBody } from '../validation.js';

export function clusterView(row: ClusterRow, grants: NamespaceGrant[]) {
  return {
    id: row.id,
    name: row.name,
    apiUrl: row.apiUrl,
    caBundle: row.caBundlePem,
    namespaces: grants.map((grant) => ({ teamId: grant.teamId, team: grant.teamName, namespaces: grant.namespaces })),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function clusterRoutes(deps: ApiDeps) {
  const app = new Hono<AppEnv>();

  app.post('/', requireRole('admin'), async (c) => {
    const principal = c.get('principal');
    requirePlatformAdmin(principal);
    const body = await parseJsonBody(c, registerClusterSchema);
    checkApiUrl(deps, body.apiUrl);
    const grants = await resolveGrants(deps, body.namespaces);
    const sealingPublicKey = requireSealingKey(deps);
    const id = newId('kcl');
    const row = await insertCluster(deps.db, { id, name: body.name, apiUrl: body.apiUrl, caBundlePem: body.caBundle, sealedToken: sealClusterToken(sealingPublicKey, body.token, id) }, grants);
    if (!row) throw problems.conflict(`a cluster named "${body.name}" is registered already; change it with PATCH /v1/clusters/{id}`);
    const view = clusterView(row, (await grantsOf(deps.db, [row.id])).get(row.id) ?? []);
    await appendAuditEvent(deps.db, {
      at: deps.now(),
      ...auditActor(principal),
      action: 'cluster.registered',
      details: { clusterId: row.id, name: row.name, apiUrl: row.apiUrl, namespaces: view.namespaces },
    });
    return c.json(view, 201);
  });

  app.get('/', async (c) => {
    const principal = c.get('principal');
    const rows = await listClusters(deps.db);
    const grants = await grantsOf(deps.db, rows.map((row) => row.id));
    const visible = rows
      .map((row) => ({ row, grants: visibleGrants(principal, grants.get(row.id) ?? []) }))
      .filter(({ grants: shown }) => isPlatformAdmin(principal) || shown.length > 0);
    return c.json({ items: visible.map(({ row, grants: shown }) => clusterView(row, shown)) });
  });

  app.get('/:id', async (c) => {
    const principal = c.get('principal');
    const id = c.req.param('id');
    const row = await findCluster(deps.db, id);
    const shown = row ? visibleGrants(principal, (await grantsOf(deps.db, [row.id])).get(row.id) ?? []) : [];
    if (!row || (!isPlatformAdmin(principal) && shown.length === 0)) throw problems.notFound(`no cluster "${id}" is visible to this token`);
    return c.json(clusterView(row, shown));
  });

  /** Rotates the token, moves the API server or changes which team may use which namespaces; Secrets already delivered stay. */
  app.patch('/:id', requireRole('admin'), async (c) => {
    const principal = c.get('principal');
    requirePlatformAdmin(principal);
    const id = c.req.param('id');
    const body = await parseJsonBody(c, patchClusterSchema);
    if (body.apiUrl) checkApiUrl(deps, body.apiUrl);
    const grants = body.namespaces ? await resolveGrants(deps, body.namespaces) : undefined;
    const sealedToken = body.token === undefined ? undefined : sealClusterToken(requireSealingKey(deps), body.token, id);
    const changed = await updateCluster(
      deps.db,
      id,
      {
        ...(body.apiUrl ? { apiUrl: body.apiUrl } : {}),
        ...(body.caBundle ? { caBundlePem: body.caBundle } : {}),
        ...(sealedToken ? { sealedToken } : {}),
        ...(grants ? { grants } : {}),
      },
      deps.now(),
    );
    if (!changed) throw problems.notFound(`no cluster "${id}" exists`);
    const after = (await grantsOf(deps.db, [id])).get(id) ?? [];
    const view = clusterView(changed.row, after);
    await appendAuditEvent(deps.db, {
      at: deps.now(),
      ...auditActor(principal),
      action: 'cluster.changed',
      details: {
        clusterId: id,
        name: changed.row.name,
        changed: Object.keys(body).filter((field) => body[field as keyof typeof body] !== undefined),
        ...(body.apiUrl ? { apiUrl: body.apiUrl } : {}),
        ...(grants ? { namespacesBefore: clusterView(changed.row, changed.before).namespaces, namespacesAfter: view.namespaces } : {}),
      },
    });
    return c.json(view);
  });

  return app;
}

function requirePlatformAdmin(principal: Principal): void {
  if (!isPlatformAdmin(principal)) throw problems.forbidden('only a platform admin token (not bound to a team) can register or change clusters');
}

function requireSealingKey(deps: ApiDeps) {
  if (!deps.sealingPublicKey) throw problems.unavailable('cluster tokens cannot be sealed: this API has no sealing public key configured (CERTFLOW_SEALING_PUBLIC_KEY)');
  return deps.sealingPublicKey;
}

/** The platform's own services and its fixed deny list stay out of reach even of a registered cluster (core/destination-hosts.ts). */
function checkApiUrl(deps: ApiDeps, apiUrl: string): void {
  const url = new URL(apiUrl);
  const refusal = checkPlatformRules(url.hostname, url.port ? Number(url.port) : 443, registeredClusterRules(deps.destinationRules));
  if (refusal) throw problems.validation(`apiUrl is refused: ${refusal.message}`, [{ field: 'apiUrl', message: refusal.message, code: refusal.code }]);
}

async function resolveGrants(deps: ApiDeps, grants: Array<{ team: string; namespaces: string[] }>): Promise<Array<{ teamId: string; namespaces: string[] }>> {
  const byTeam = new Map<string, string[]>();
  const unknown: FieldProblem[] = [];
  for (const [index, grant] of grants.entries()) {
    const team = (await findTeam(deps.db, grant.team)) ?? (await findTeamByName(deps.db, grant.team));
    if (!team) unknown.push({ field: `namespaces/${index}/team`, message: `no team "${grant.team}" exists` });
    else byTeam.set(team.id, [...(byTeam.get(team.id) ?? []), ...grant.namespaces]);
  }
  if (unknown.length > 0) throw problems.validation(unknown.map((problem) => problem.message).join('; '), unknown);
  return [...byTeam].map(([teamId, namespaces]) => ({ teamId, namespaces }));
}

function visibleGrants(principal: Principal, grants: NamespaceGrant[]): NamespaceGrant[] {
  return isPlatformAdmin(principal) ? grants : grants.filter((grant) => grant.teamId === principal.teamId);
}
