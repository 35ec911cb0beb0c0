/**
 * Proof that the checks can fail: with CERTFLOW_FAULTS_PROVE_CHECKS=1 the suite, after its real
 * checks, breaks each invariant once in the stopped run's data (rows, the signer log) and checks
 * again; every invariant must then report a violation. Never part of a normal run.
 */
import { X509Certificate } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { and, asc, eq, ne, sql } from 'drizzle-orm';
import { auditEvents, bulkItems, certificateKeys, certificates, certificateVersions, issuers } from '../../db/schema.js';
import type { Snapshot } from './invariants.js';
import type { RunContext } from './scenario.js';

export async function corruptEveryInvariant(ctx: RunContext, snapshot: Snapshot): Promise<string[]> {
  const done: string[] = [];
  const active = snapshot.certificates.filter((certificate) => certificate.state === 'active' && certificate.currentVersionId);
  if (active.length < 6) throw new Error(`need 6 active certificates to corrupt, have ${active.length}`);
  const versionsOf = (id: string) => snapshot.versions.filter((version) => version.certificateId === id).sort((a, b) => a.generation - b.generation);

  // 1. A certificate left mid-way.
  await ctx.db.update(certificates).set({ state: 'renewing' }).where(eq(certificates.id, active[0]!.id));
  done.push(`1: ${active[0]!.id} state set to renewing`);

  // 2. A gap in the generations (a version for max + 2).
  const [newest] = versionsOf(active[1]!.id).slice(-1);
  await ctx.db.insert(certificateVersions).values({
    ...newest!,
    id: `${newest!.id}x`,
    generation: newest!.generation + 2,
    serial: `7f${newest!.serial.slice(2)}`,
    fingerprintSha256: `00${newest!.fingerprintSha256.slice(2)}`,
    status: 'superseded',
  });
  done.push(`2: ${active[1]!.id} got a generation ${newest!.generation + 2}`);

  // 3. A version with the serial of an issuer certificate (certificate_versions.serial is unique, so not of another version).
  const [issuer] = await ctx.db.select().from(issuers).where(eq(issuers.kind, 'intermediate')).limit(1);
  const issuerSerial = new X509Certificate(issuer!.certificatePem).serialNumber.toLowerCase();
  const [oldest] = versionsOf(active[2]!.id);
  await ctx.db.update(certificateVersions).set({ serial: issuerSerial }).where(eq(certificateVersions.id, oldest!.id));
  done.push(`3: ${active[2]!.id} generation ${oldest!.generation} given the serial of issuer ${issuer!.id}`);

  // 4. The signer signed a serial nobody recorded.
  appendFileSync(ctx.signerLog, `${JSON.stringify({ kind: 'signed', issuerId: issuer!.id, serial: '1234567890abcdef', tbsSha256: '0'.repeat(64), pid: 0, at: new Date().toISOString() })}\n`);
  done.push('4: signer log line for serial 1234567890abcdef');

  // 5. A key of a generation that has no version.
  const [key] = await ctx.db.select().from(certificateKeys).where(eq(certificateKeys.certificateId, active[3]!.id)).limit(1);
  await ctx.db.insert(certificateKeys).values({ ...key!, id: `${key!.id}x`, generation: key!.generation + 50 });
  done.push(`5: ${active[3]!.id} key for generation ${key!.generation + 50}`);

  // 6. A revocation recorded but never published (no new CRL, no OCSP response).
  await ctx.db.update(certificateVersions).set({ status: 'revoked', revokedAt: new Date(), revocationReason: 'keyCompromise' }).where(eq(certificateVersions.id, active[4]!.currentVersionId!));
  done.push(`6: ${active[4]!.id} current version revoked in the database only`);

  // 7. A superseded version revoked a second before its replacement was even issued.
  const own = versionsOf(active[5]!.id);
  const superseded = own.find((version) => version.status === 'superseded' && own.some((v) => v.generation === version.generation + 1));
  if (superseded) {
    const replacement = own.find((v) => v.generation === superseded.generation + 1)!;
    await ctx.db
      .update(certificateVersions)
      .set({ status: 'revoked', revokedAt: new Date(replacement.createdAt.getTime() - 1_000), revocationReason: 'superseded' })
      .where(and(eq(certificateVersions.id, superseded.id), ne(certificateVersions.status, 'revoked')));
    done.push(`7: ${active[5]!.id} generation ${superseded.generation} revoked before generation ${replacement.generation} existed`);
  }

  // 8. An audit event edited after the fact.
  const [event] = await ctx.db.select().from(auditEvents).orderBy(asc(auditEvents.seq)).limit(1);
  // The table refuses UPDATE (a trigger): only someone who can ALTER it, as here, gets past that.
  await ctx.db.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
  await ctx.db.update(auditEvents).set({ details: { ...event!.details, edited: true } }).where(eq(auditEvents.seq, event!.seq));
  await ctx.db.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
  done.push(`8: audit event ${event!.seq} edited`);

  // 9. A bulk item without its outcome.
  const result = await ctx.db.execute(sql`update ${bulkItems} set outcome = null where (bulk_id, certificate_id) in (select bulk_id, certificate_id from ${bulkItems} limit 1) returning certificate_id`);
  done.push(`9: bulk item of ${String(result.rows[0]?.['certificate_id'])} lost its outcome`);
  return done;
}
