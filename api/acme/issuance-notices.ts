/**
 * Finalize waits for the worker's signature. The worker announces every ACME version it records
 * (`NOTIFY certflow_acme_issued`, db/acme-orders.ts), so finalize answers as soon as the version is
 * committed instead of reading Postgres again and again. One LISTEN connection per pool, opened on
 * first use, outside the pool (so `pool.end()` never waits for it) and with its socket unref'd (it
 * never keeps a process alive). Without it (not yet connected, or lost), finalize reads instead.
 */
import pg from 'pg';
import { ACME_ISSUED_CHANNEL } from '../../db/acme-orders.js';

type Waiter = (versionId: string) => void;

export class IssuanceNotices {
  private client: pg.Client | null = null;
  private connecting: Promise<boolean> | null = null;
  private readonly waiters = new Map<string, Set<Waiter>>();

  constructor(private readonly pool: pg.Pool) {}

  /** Whether announcements are being received (connecting first if need be). */
  listening(): Promise<boolean> {
    if (this.client) return Promise.resolve(true);
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    return this.connecting;
  }

  /**
   * Registers interest in a certificate generation's version: `version` resolves with its id when it
   * is announced, or null after `timeoutMs`. Register before reading, so nothing falls in between.
   */
  expect(certificateId: string, generation: number, timeoutMs: number): { version: Promise<string | null>; cancel: () => void } {
    const key = `${certificateId}/${generation}`;
    let waiter: Waiter = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    const version = new Promise<string | null>((resolve) => {
      waiter = (versionId) => resolve(versionId);
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    const cancel = () => {
      clearTimeout(timer);
      const set = this.waiters.get(key);
      set?.delete(waiter);
      if (set?.size === 0) this.waiters.delete(key);
    };
    let set = this.waiters.get(key);
    if (!set) this.waiters.set(key, (set = new Set()));
    set.add(waiter);
    void version.finally(cancel);
    return { version, cancel };
  }

  private async connect(): Promise<boolean> {
    const client = new pg.Client(this.pool.options);
    client.on('error', () => this.drop(client));
    client.on('end', () => this.drop(client));
    client.on('notification', (message) => {
      if (message.channel !== ACME_ISSUED_CHANNEL || !message.payload) return;
      const [certificateId, generation, versionId] = message.payload.split('/');
      const set = this.waiters.get(`${certificateId}/${generation}`);
      if (set && versionId) for (const waiter of [...set]) waiter(versionId);
    });
    try {
      await client.connect();
      (client as unknown as { connection: { stream: { unref?: () => void } } }).connection.stream.unref?.();
      await client.query(`LISTEN ${ACME_ISSUED_CHANNEL}`);
    } catch {
      this.drop(client);
      return false;
    }
    this.client = client;
    return true;
  }

  private drop(client: pg.Client): void {
    if (this.client === client) this.client = null;
    client.end().catch(() => undefined);
  }
}

const byPool = new WeakMap<pg.Pool, IssuanceNotices>();

/** The announcements of this pool's database (one LISTEN connection per pool). */
export function issuanceNotices(pool: pg.Pool): IssuanceNotices {
  let notices = byPool.get(pool);
  if (!notices) byPool.set(pool, (notices = new IssuanceNotices(pool)));
  return notices;
}
