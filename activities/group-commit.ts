/**
 * Group commit: the worker runs many renewals at once, and each writes a small record (an outcome,
 * a pre-signed OCSP response). Requests for the same key that arrive while one group is being
 * written wait and are written together as the next group, in one statement or transaction, so a
 * bulk operation costs Postgres a few writes per group instead of one per renewal. Each caller
 * still waits for its own record to be written (nothing is acknowledged before it is durable); a
 * failed group fails each of its callers, whose activities retry.
 */
export class GroupCommit<Item> {
  private readonly queues = new Map<string, { waiting: { item: Item; resolve: () => void; reject: (error: unknown) => void }[]; running: boolean }>();

  constructor(
    private readonly write: (key: string, items: Item[]) => Promise<void>,
    private readonly maxGroup = 200,
  ) {}

  add(key: string, item: Item): Promise<void> {
    let queue = this.queues.get(key);
    if (!queue) this.queues.set(key, (queue = { waiting: [], running: false }));
    const written = new Promise<void>((resolve, reject) => queue.waiting.push({ item, resolve, reject }));
    if (!queue.running) void this.drain(key, queue);
    return written;
  }

  private async drain(key: string, queue: { waiting: { item: Item; resolve: () => void; reject: (error: unknown) => void }[]; running: boolean }): Promise<void> {
    queue.running = true;
    try {
      while (queue.waiting.length > 0) {
        const group = queue.waiting.splice(0, this.maxGroup);
        try {
          await this.write(key, group.map((entry) => entry.item));
          for (const entry of group) entry.resolve();
        } catch (error) {
          for (const entry of group) entry.reject(error);
        }
      }
    } finally {
      queue.running = false;
      if (queue.waiting.length === 0) this.queues.delete(key);
    }
  }
}
