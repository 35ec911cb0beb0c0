/**
 * The audit log's chain, pure (no I/O): how a row's hash is computed, how rows and checkpoints are
 * sealed with the audit key, and the verifier over a list of rows and checkpoints.
 *
 * - chain version 1 (rows written before issue 11): SHA-256 over the previous hash and a home-made
 *   canonical JSON; unkeyed. Still verified with that function, so existing databases stay valid.
 * - chain version 2: SHA-256 over the RFC 8785 canonical JSON of the row (with `prevHash`), and a
 *   MAC of that hash under the audit key, which the database never holds: whoever rewrites a row and
 *   recomputes the hashes cannot recompute the MACs.
 * - checkpoints: the head (seq, hash) at a time, MACed under the same key, kept in the database and
 *   copied outside it; a checkpoint naming a row that no longer exists reveals deleted newest rows.
 */
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { canonicalize } from '../core/jcs.js';

export const GENESIS_HASH = '0'.repeat(64);
export const CURRENT_CHAIN_VERSION = 2;
const HKDF_INFO = 'certflow audit v1';

/** The fields of an audit row the chain covers (db/schema.ts `audit_events`). */
export interface ChainedRow {
  seq: number;
  at: Date;
  actor: string;
  principalId: string | null;
  action: string;
  teamId: string | null;
  certificateId: string | null;
  details: Record<string, unknown>;
  dedupeKey: string | null;
  prevHash: string;
  hash: string;
  chainVersion: number;
  mac: string | null;
}

export interface AuditCheckpoint {
  /** The newest row's seq and hash when the checkpoint was taken. */
  seq: number;
  hash: string;
  at: Date;
  mac: string;
}

/** The MAC key of the audit log, derived (HKDF-SHA256, info "certflow audit v1") from CERTFLOW_AUDIT_KEY. */
export class AuditKey {
  private constructor(private readonly macKey: Buffer) {}

  static fromSecret(secret: Uint8Array): AuditKey {
    if (secret.length < 32) throw new Error('the audit key must be at least 32 bytes');
    return new AuditKey(Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), HKDF_INFO, 32)));
  }

  sealRow(hash: string): string {
    return this.mac(`row\0${hash}`);
  }

  sealCheckpoint(checkpoint: Omit<AuditCheckpoint, 'mac'>): string {
    return this.mac(`checkpoint\0${canonicalize({ seq: checkpoint.seq, hash: checkpoint.hash, at: checkpoint.at.toISOString() })}`);
  }

  rowSealHolds(hash: string, mac: string | null): boolean {
    return mac !== null && sameHex(this.sealRow(hash), mac);
  }

  checkpointSealHolds(checkpoint: AuditCheckpoint): boolean {
    return sameHex(this.sealCheckpoint(checkpoint), checkpoint.mac);
  }

  private mac(message: string): string {
    return createHmac('sha256', this.macKey).update(message).digest('hex');
  }
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

type RowContent = Omit<ChainedRow, 'seq' | 'hash' | 'mac'>;

/** What an appended row says; the chain fields are added by `chainNextRow`. */
export type AuditRowContent = Omit<RowContent, 'prevHash' | 'chainVersion'>;

/**
 * The next row of the chain after `previous` (none: the first row): seq one higher (so a gap is a
 * removed row), linked to its hash, hashed as chain version 2 and sealed with the audit key.
 */
export function chainNextRow(previous: Pick<ChainedRow, 'seq' | 'hash'> | undefined, content: AuditRowContent, key: AuditKey): ChainedRow {
  const unsealed = { ...content, prevHash: previous?.hash ?? GENESIS_HASH, chainVersion: CURRENT_CHAIN_VERSION };
  const hash = rowHash(unsealed);
  return { ...unsealed, seq: (previous?.seq ?? 0) + 1, hash, mac: key.sealRow(hash) };
}

/** The hash a row must carry, by its chain version. */
export function rowHash(row: RowContent): string {
  if (row.chainVersion === 1) return legacyRowHash(row);
  return createHash('sha256')
    .update(
      canonicalize({
        v: row.chainVersion,
        prevHash: row.prevHash,
        at: row.at.toISOString(),
        actor: row.actor,
        principalId: row.principalId,
        action: row.action,
        teamId: row.teamId,
        certificateId: row.certificateId,
        details: row.details,
        dedupeKey: row.dedupeKey,
      }),
    )
    .digest('hex');
}

/** Chain version 1, exactly as written before RFC 8785 (kept so old rows verify). */
function legacyRowHash(row: RowContent): string {
  const canonical = JSON.stringify([row.at.toISOString(), row.actor, row.action, row.teamId, row.certificateId, legacyCanonicalJson(row.details), row.dedupeKey]);
  return createHash('sha256').update(row.prevHash).update(canonical).digest('hex');
}

function legacyCanonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(legacyCanonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${legacyCanonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export type AuditProblemKind = 'changed' | 'removed' | 'reordered' | 'truncated' | 'checkpoint';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** The row the problem is found at (for `truncated`: the seq the checkpoint names). */
  seq: number;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  rows: number;
  /** Rows of chain version 1 (before keyed sealing): their hashes are checked, they carry no MAC. */
  legacyRows: number;
  checkpoints: number;
  /** The newest row's seq, or null for an empty log. */
  headSeq: number | null;
  /** The newest checkpoint's seq, or null without checkpoints. */
  checkpointSeq: number | null;
  problems: AuditProblem[];
  /**
   * Checkpoints ahead of the log that a `platform.restored` row acknowledges (written by `certflow
   * reconcile` after the database came back from a backup): a restore, reported as such, not tampering.
   */
  restores: AuditRestore[];
}

export interface AuditRestore {
  checkpointSeq: number;
  checkpointAt: Date;
  /** The `platform.restored` row that names the checkpoint. */
  acknowledgedBySeq: number;
  /** The log's head when the restore was acknowledged: the rows after it up to the checkpoint were lost with the restore. */
  restoredHeadSeq: number | null;
  message: string;
}

/**
 * Checks every row (its hash, its MAC, its link to the row stored before it) and every checkpoint
 * (its MAC, and that the row it names still exists with the hash it names). `rows` in any order.
 */
export function verifyAuditLog(input: { rows: readonly ChainedRow[]; checkpoints: readonly AuditCheckpoint[]; key: AuditKey }): AuditVerification {
  const rows = [...input.rows].sort((a, b) => a.seq - b.seq);
  const bySeq = new Map(rows.map((row) => [row.seq, row]));
  const seqOfHash = new Map(rows.map((row) => [row.hash, row.seq]));
  const problems: AuditProblem[] = [];
  const changedSeqs = new Set<number>();

  let sealedSince: number | null = null;
  for (const [index, row] of rows.entries()) {
    if (row.chainVersion !== 1) sealedSince ??= row.seq;
    if (row.chainVersion === 1 && sealedSince !== null) {
      // Rewritten as an unkeyed legacy row to dodge the MAC: legacy rows all come before the first sealed one.
      changedSeqs.add(row.seq);
      problems.push({ kind: 'changed', seq: row.seq, message: `row ${row.seq} was changed: it claims the unkeyed chain version 1 after sealed row ${sealedSince}` });
    } else if (rowHash(row) !== row.hash) {
      changedSeqs.add(row.seq);
      problems.push({ kind: 'changed', seq: row.seq, message: `row ${row.seq} was changed: its content does not match its hash` });
    } else if (row.chainVersion !== 1 && !input.key.rowSealHolds(row.hash, row.mac)) {
      changedSeqs.add(row.seq);
      problems.push({ kind: 'changed', seq: row.seq, message: `row ${row.seq} was changed: its hash was recomputed without the audit key (MAC does not match)` });
    }
    const previous = rows[index - 1];
    const expectedPrev = previous?.hash ?? GENESIS_HASH;
    if (row.prevHash === expectedPrev) continue;
    // A successor of a row whose stored hash was rewritten points at the old hash: already reported.
    if (previous && changedSeqs.has(previous.seq) && !seqOfHash.has(row.prevHash)) continue;
    const linkedSeq = seqOfHash.get(row.prevHash);
    if (linkedSeq !== undefined) {
      problems.push({ kind: 'reordered', seq: row.seq, message: `row ${row.seq} was reordered: in the chain it follows row ${linkedSeq}, but it is stored after ${previous ? `row ${previous.seq}` : 'nothing'}` });
    } else if (!previous) {
      problems.push({ kind: 'removed', seq: row.seq, message: `rows before row ${row.seq} were removed: it is the oldest row but does not start the chain` });
    } else {
      const missing = row.chainVersion !== 1 && row.seq - previous.seq > 1 ? ` (seq ${describeRange(previous.seq + 1, row.seq - 1)})` : '';
      problems.push({ kind: 'removed', seq: row.seq, message: `rows between row ${previous.seq} and row ${row.seq} were removed${missing}: row ${row.seq} follows a row that no longer exists` });
    }
  }

  const headSeq = rows.at(-1)?.seq ?? null;
  const acknowledgements = restoreAcknowledgements(rows, changedSeqs);
  const restores: AuditRestore[] = [];
  const checkpoints = [...input.checkpoints].sort((a, b) => a.seq - b.seq || a.at.getTime() - b.at.getTime());
  for (const checkpoint of checkpoints) {
    const at = checkpoint.at.toISOString();
    if (!input.key.checkpointSealHolds(checkpoint)) {
      problems.push({ kind: 'checkpoint', seq: checkpoint.seq, message: `the checkpoint of ${at} (row ${checkpoint.seq}) is not sealed by the audit key` });
      continue;
    }
    const named = bySeq.get(checkpoint.seq);
    const acknowledged = acknowledgements.get(`${checkpoint.seq}/${checkpoint.hash}`);
    if (named?.hash !== checkpoint.hash && acknowledged) {
      restores.push({
        checkpointSeq: checkpoint.seq,
        checkpointAt: checkpoint.at,
        acknowledgedBySeq: acknowledged.seq,
        restoredHeadSeq: acknowledged.restoredHeadSeq,
        message: `the database was restored from a backup: the checkpoint of ${at} names row ${checkpoint.seq}, the restored log ended at row ${acknowledged.restoredHeadSeq ?? 'none'}; rows of that time after it were lost; acknowledged by platform.restored row ${acknowledged.seq}`,
      });
      continue;
    }
    if (!named && (headSeq === null || checkpoint.seq > headSeq)) {
      problems.push({
        kind: 'truncated',
        seq: checkpoint.seq,
        message: `the newest rows were removed: the checkpoint of ${at} names row ${checkpoint.seq}, but the log ends at ${headSeq === null ? 'no row' : `row ${headSeq}`} (after a restore from a backup, run certflow reconcile: it records the restore)`,
      });
    } else if (!named) {
      if (!problems.some((problem) => problem.kind === 'removed')) {
        problems.push({ kind: 'removed', seq: checkpoint.seq, message: `row ${checkpoint.seq}, named by the checkpoint of ${at}, was removed` });
      }
    } else if (named.hash !== checkpoint.hash) {
      problems.push({ kind: 'changed', seq: checkpoint.seq, message: `row ${checkpoint.seq} was changed: its hash differs from the one the checkpoint of ${at} names (the chain was rewritten)` });
    }
  }

  return {
    ok: problems.length === 0,
    rows: rows.length,
    legacyRows: rows.filter((row) => row.chainVersion === 1).length,
    checkpoints: checkpoints.length,
    headSeq,
    checkpointSeq: checkpoints.at(-1)?.seq ?? null,
    problems,
    restores,
  };
}

/** `seq/hash` of each checkpoint named by a sound `platform.restored` row → that row. */
function restoreAcknowledgements(rows: readonly ChainedRow[], changedSeqs: ReadonlySet<number>): Map<string, { seq: number; restoredHeadSeq: number | null }> {
  const acknowledged = new Map<string, { seq: number; restoredHeadSeq: number | null }>();
  for (const row of rows) {
    if (row.action !== 'platform.restored' || changedSeqs.has(row.seq)) continue;
    const head = typeof row.details.restoredHeadSeq === 'number' ? row.details.restoredHeadSeq : null;
    const named = Array.isArray(row.details.checkpoints) ? (row.details.checkpoints as Array<{ seq?: unknown; hash?: unknown }>) : [];
    for (const checkpoint of named) {
      if (typeof checkpoint.seq === 'number' && typeof checkpoint.hash === 'string') acknowledged.set(`${checkpoint.seq}/${checkpoint.hash}`, { seq: row.seq, restoredHeadSeq: head });
    }
  }
  return acknowledged;
}

function describeRange(from: number, to: number): string {
  return from === to ? `${from}` : `${from}–${to}`;
}
