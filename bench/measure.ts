/**
 * Rate measurement for the benchmark on a shared, noisy machine. Rates are operations per second of
 * CPU time this process used (process.cpuUsage), not of wall time: time the scheduler gives to other
 * processes is not ours. The operations being compared run in interleaved rounds (a slice of each,
 * then again), so what load still does (cache, frequency) hits them alike; a ratio is the median of
 * the per-round ratios, a rate the median of the per-round rates.
 */

export interface MeasureOptions {
  warmupMs: number;
  sliceMs: number;
  rounds: number;
}

export const DEFAULT_MEASURE: MeasureOptions = { warmupMs: 300, sliceMs: 250, rounds: 8 };

export interface Operation {
  name: string;
  run: () => unknown;
}

/** Per operation name, its rate (operations per CPU second) in each round. */
export type RoundRates = Map<string, number[]>;

export async function measureRounds(operations: Operation[], options: MeasureOptions = DEFAULT_MEASURE): Promise<RoundRates> {
  for (const operation of operations) await runFor(operation.run, options.warmupMs);
  const rates: RoundRates = new Map(operations.map((operation) => [operation.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const operation of operations) {
      // Each slice starts with a collected young generation, so no operation pays for another's short-lived garbage.
      collectGarbage();
      const started = process.cpuUsage();
      const count = await runFor(operation.run, options.sliceMs);
      const used = process.cpuUsage(started);
      rates.get(operation.name)!.push((count * 1e6) / (used.user + used.system));
    }
  }
  return rates;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Median over rounds of rate(a) / rate(b) measured in the same round. */
export function medianRatio(rates: RoundRates, a: string, b: string): number {
  const ofA = rates.get(a)!;
  const ofB = rates.get(b)!;
  return median(ofA.map((rate, round) => rate / ofB[round]!));
}

/**
 * A young-generation collection (scavenge) when node runs with --expose-gc (run.ts arranges that):
 * the previous slice's short-lived garbage is gone before the next slice starts. Not a full GC: after
 * a forced full collection V8 starts over with a small young generation, which made the slice after
 * it (measured: build + sign for P-256, 40 % of raw sign instead of 62–64 % with a scavenge or no
 * collection at all) pay for a state no long-running issuer is ever in.
 */
function collectGarbage(): void {
  (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc?.({ type: 'minor' });
}

async function runFor(operation: () => unknown, ms: number): Promise<number> {
  const end = performance.now() + ms;
  let count = 0;
  while (performance.now() < end) {
    // Batches of 8 keep the clock reads out of the measurement.
    for (let i = 0; i < 8; i++) {
      const result = operation();
      if (result instanceof Promise) await result;
    }
    count += 8;
  }
  return count;
}
