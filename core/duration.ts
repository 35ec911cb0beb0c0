/**
 * Validity and renew-before durations: ISO-8601 durations with weeks, days, hours, minutes and
 * seconds ("P90D", "PT30S", "P1DT12H"), or a whole number of seconds. Years and months are refused
 * because their length in seconds is ambiguous.
 */
const ISO_DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

export function parseDurationSeconds(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input <= 0) {
      throw new RangeError(`a duration in seconds must be a positive whole number, got ${input}`);
    }
    return input;
  }
  if (/^\d+$/.test(input)) return parseDurationSeconds(Number(input));
  const match = ISO_DURATION.exec(input);
  if (!match || input === 'P' || input.endsWith('T')) {
    throw new RangeError(
      `"${input}" is not a supported duration: use ISO-8601 weeks/days/hours/minutes/seconds such as "P90D" or "PT30S", or a number of seconds`,
    );
  }
  const parts = match.slice(1).map((part) => Number(part ?? 0));
  const [w, d, h, m, s] = parts;
  const seconds = (w ?? 0) * 604800 + (d ?? 0) * 86400 + (h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0);
  if (seconds <= 0) throw new RangeError(`duration "${input}" must be longer than zero`);
  if (!Number.isSafeInteger(seconds) || parts.some((part) => !Number.isSafeInteger(part))) {
    throw new RangeError(`duration "${input}" is too long`);
  }
  return seconds;
}

export function formatDurationSeconds(seconds: number): string {
  return `PT${seconds}S`;
}
