/**
 * The dashboard's expiry timeline: how many certificates of each team expire in each slice of the
 * coming days. Already-expired certificates fall in the first slice; later ones are left out.
 */
export interface ExpiringCertificate {
  team: string;
  notAfter: Date;
}

export interface TimelineBucket {
  start: Date;
  end: Date;
  count: number;
}

export interface TeamTimeline {
  team: string;
  total: number;
  buckets: TimelineBucket[];
}

export interface ExpiryTimeline {
  from: Date;
  to: Date;
  teams: TeamTimeline[];
  /** The largest bucket count of any team (at least 1), to scale the drawing. */
  maxCount: number;
}

export function expiryTimeline(certificates: ExpiringCertificate[], now: Date, days: number, bucketCount: number): ExpiryTimeline {
  const from = now.getTime();
  const to = from + days * 86_400_000;
  const width = (to - from) / bucketCount;
  const byTeam = new Map<string, number[]>();
  for (const certificate of certificates) {
    const at = certificate.notAfter.getTime();
    if (at >= to) continue;
    const index = Math.min(bucketCount - 1, Math.max(0, Math.floor((at - from) / width)));
    const counts = byTeam.get(certificate.team) ?? new Array<number>(bucketCount).fill(0);
    counts[index] = (counts[index] ?? 0) + 1;
    byTeam.set(certificate.team, counts);
  }
  const teams = [...byTeam.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([team, counts]) => ({
      team,
      total: counts.reduce((sum, count) => sum + count, 0),
      buckets: counts.map((count, index) => ({ start: new Date(from + index * width), end: new Date(from + (index + 1) * width), count })),
    }));
  const maxCount = Math.max(1, ...teams.flatMap((team) => team.buckets.map((bucket) => bucket.count)));
  return { from: new Date(from), to: new Date(to), teams, maxCount };
}
