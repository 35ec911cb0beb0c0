/**
 * Reuses what a scrape-time gauge loads for `seconds`: concurrent or frequent scrapes (several Prometheus, short
 * intervals) share one load per period. A failed load gives null, is logged, and is not kept.
 */
export function scrapeCache<T>(seconds: number, load: () => Promise<T>, onError: (error: unknown) => void): () => Promise<T | null> {
  let cached: { at: number; value: Promise<T | null> } | null = null;
  return () => {
    const now = Date.now();
    if (!cached || now - cached.at > seconds * 1000) {
      const round: { at: number; value: Promise<T | null> } = {
        at: now,
        value: load().catch((error: unknown) => {
          onError(error);
          if (cached === round) cached = null;
          return null;
        }),
      };
      cached = round;
    }
    return cached.value;
  };
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
