/**
 * Run counts and seed of the property-based (fast-check) fuzz tests, in one place.
 *
 *  - Every property has a default run count sized so that the whole suite stays within a couple of
 *    minutes on 2 cores; `CERTFLOW_FUZZ_SCALE=<factor>` multiplies them all for a long run.
 *  - The seed is fixed (`DEFAULT_SEED`) so `npm test` is reproducible; `CERTFLOW_FUZZ_SEED=<int>`
 *    explores other inputs, `CERTFLOW_FUZZ_SEED=random` draws one. Each property prints its seed
 *    and run count, and fast-check prints the seed and path of a failing case to replay it.
 */
import type fc from 'fast-check';

export const DEFAULT_SEED = 20_261_207;

function readScale(): number {
  const raw = process.env['CERTFLOW_FUZZ_SCALE'];
  if (raw === undefined || raw === '') return 1;
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`CERTFLOW_FUZZ_SCALE must be a positive number, not "${raw}"`);
  return scale;
}

function readSeed(): number {
  const raw = process.env['CERTFLOW_FUZZ_SEED'];
  if (raw === undefined || raw === '') return DEFAULT_SEED;
  if (raw === 'random') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`CERTFLOW_FUZZ_SEED must be an integer or "random", not "${raw}"`);
  return seed;
}

export const FUZZ_SCALE = readScale();
export const FUZZ_SEED = readSeed();

/** The run count of a property: its default times CERTFLOW_FUZZ_SCALE (at least 1). */
export function fuzzRuns(defaultRuns: number): number {
  return Math.max(1, Math.round(defaultRuns * FUZZ_SCALE));
}

/** A test timeout that grows with the scale: `baseMs` is what the default run count needs. */
export function fuzzTimeout(baseMs: number): number {
  return Math.round(baseMs * Math.max(1, FUZZ_SCALE));
}

/** fast-check parameters of one property (fixed seed, scaled runs); prints them so a run can be repeated. */
export function fuzzParameters<T>(property: string, defaultRuns: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  const numRuns = fuzzRuns(defaultRuns);
  console.log(`[fuzz] ${property}: numRuns=${numRuns} seed=${FUZZ_SEED} (CERTFLOW_FUZZ_SCALE=${FUZZ_SCALE})`);
  return { seed: FUZZ_SEED, numRuns, endOnFailure: true, ...extra };
}
