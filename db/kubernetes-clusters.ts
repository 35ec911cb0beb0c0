/**
 * Registered Kubernetes clusters and the namespaces each team may write Secrets to (schema
 * `kubernetes_clusters`, `kubernetes_namespace_grants`). The token is stored sealed; this module
 * never opens it.
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Database, Queryable } from './database.js';
import { kubernetesClusters, kubernetesNamespaceGrants, teams } from './schema.js';

export type ClusterRow = typeof kubernetesClusters.$inferSelect;

/** One team's namespaces on a cluster. */
export interface NamespaceGrant {
  teamId: string;
  teamName: string;
  namespaces: string[];
}

export async function insertCluster(
  db: Database,
  cluster: { id: string; name: string; apiUrl: string; caBundlePem: string; sealedToken: string },
  grants: Array<{ teamId: string; namespaces: string[] }>,
): Promise<ClusterRow | null> {
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(kubernetesClusters).values(cluster).onConflictDoNothing({ target: kubernetesClusters.name }).returning();
    if (!row) return null;
    await replaceGrants(tx, row.id, grants);
    return row;
  });
}

export async function findCluster(db: Queryable, id: string): Promise<ClusterRow | null> {
  const [row] = await db.select().from(kubernetesClusters).where(eq(kubernetesClusters.id, id));
  return row ?? null;
}

export async function findClusterByName(db: Queryable, name: string): Promise<ClusterRow | null> {
  const [row] = await db.select().from(kubernetesClusters).where(eq(kubernetesClusters.name, name));
  return row ?? null;
}

export async function listClusters(db: Queryable): Promise<ClusterRow[]> {
  return db.select().from(kubernetesClusters).orderBy(asc(kubernetesClusters.name));
}

/**
 * Changes what is given, under a row lock; `grants` (when given) replaces every grant of the
 * cluster. Returns the grants before and the row after; null when there is no such cluster.
 */
export async function updateCluster(
  db: Database,
  id: string,
  change: { apiUrl?: string; caBundlePem?: string; sealedToken?: string; grants?: Array<{ teamId: string; namespaces: string[] }> },
  now: Date,
): Promise<{ before: NamespaceGrant[]; row: ClusterRow } | null> {
  return db.transaction(async (tx) => {
    const [locked] = await tx.select().from(kubernetesClusters).where(eq(kubernetesClusters.id, id)).for('update');
    if (!locked) return null;
    const before = (await grantsOf(tx, [id])).get(id) ?? [];
    const { grants, ...fields } = change;
    const [row] = await tx
      .update(kubernetesClusters)
      .set({ ...fields, updatedAt: now })
      .where(eq(kubernetesClusters.id, id))
      .returning();
    if (grants) await replaceGrants(tx, id, grants);
    return { before, row: row! };
  });
}

async function replaceGrants(tx: Queryable, clusterId: string, grants: Array<{ teamId: string; namespaces: string[] }>): Promise<void> {
  await tx.delete(kubernetesNamespaceGrants).where(eq(kubernetesNamespaceGrants.clusterId, clusterId));
  const rows = grants.flatMap((grant) => [...new Set(grant.namespaces)].map((namespace) => ({ clusterId, teamId: grant.teamId, namespace })));
  if (rows.length > 0) await tx.insert(kubernetesNamespaceGrants).values(rows).onConflictDoNothing();
}

/** The grants of each cluster, by cluster id, teams and namespaces sorted. */
export async function grantsOf(db: Queryable, clusterIds: string[]): Promise<Map<string, NamespaceGrant[]>> {
  const result = new Map<string, NamespaceGrant[]>();
  if (clusterIds.length === 0) return result;
  const rows = await db
    .select({ clusterId: kubernetesNamespaceGrants.clusterId, teamId: kubernetesNamespaceGrants.teamId, teamName: teams.name, namespace: kubernetesNamespaceGrants.namespace })
    .from(kubernetesNamespaceGrants)
    .innerJoin(teams, eq(teams.id, kubernetesNamespaceGrants.teamId))
    .where(inArray(kubernetesNamespaceGrants.clusterId, clusterIds))
    .orderBy(asc(teams.name), asc(kubernetesNamespaceGrants.namespace));
  for (const row of rows) {
    const grants = result.get(row.clusterId) ?? [];
    let grant = grants.find((candidate) => candidate.teamId === row.teamId);
    if (!grant) {
      grant = { teamId: row.teamId, teamName: row.teamName, namespaces: [] };
      grants.push(grant);
    }
    grant.namespaces.push(row.namespace);
    result.set(row.clusterId, grants);
  }
  return result;
}

/** Whether the team may write to `namespace` of the cluster (as granted now). */
export async function namespaceGranted(db: Queryable, clusterId: string, teamId: string, namespace: string): Promise<boolean> {
  const rows = await db
    .select({ namespace: kubernetesNamespaceGrants.namespace })
    .from(kubernetesNamespaceGrants)
    .where(and(eq(kubernetesNamespaceGrants.clusterId, clusterId), eq(kubernetesNamespaceGrants.teamId, teamId), eq(kubernetesNamespaceGrants.namespace, namespace)));
  return rows.length > 0;
}
