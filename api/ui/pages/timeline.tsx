/** @jsxImportSource hono/jsx */
/** The expiry timeline per team, drawn as inline SVG: one row per team, one bar per slice of days. */
import type { ExpiryTimeline } from '../../../core/expiry-timeline.js';

const LABEL_WIDTH = 220;
const CHART_WIDTH = 840;
const ROW_HEIGHT = 46;
const AXIS_HEIGHT = 30;

export function TimelinePage({ timeline, days, truncated }: { timeline: ExpiryTimeline; days: string; truncated: boolean }) {
  const slices = timeline.teams[0]?.buckets.length ?? 0;
  const sliceWidth = slices ? CHART_WIDTH / slices : CHART_WIDTH;
  const height = AXIS_HEIGHT + Math.max(1, timeline.teams.length) * ROW_HEIGHT;
  return (
    <>
      <form method="get" action="/ui/timeline" class="filters">
        <label>
          Days ahead
          <input name="days" type="number" min="1" max="3650" value={days} />
        </label>
        <button type="submit">Show</button>
      </form>
      {truncated ? <p class="muted">Only the first 1000 certificates expiring in this window are drawn.</p> : null}
      {timeline.teams.length === 0 ? (
        <p class="muted">No certificate expires in the next {days} days.</p>
      ) : (
        <svg class="timeline" id="timeline" role="img" aria-label={`Certificates expiring per team in the next ${days} days`} width={LABEL_WIDTH + CHART_WIDTH + 20} height={height} viewBox={`0 0 ${LABEL_WIDTH + CHART_WIDTH + 20} ${height}`}>
          <text x={LABEL_WIDTH} y={18} font-size="12" fill="#4a5468">
            {timeline.from.toISOString().slice(0, 10)}
          </text>
          <text x={LABEL_WIDTH + CHART_WIDTH} y={18} font-size="12" fill="#4a5468" text-anchor="end">
            {timeline.to.toISOString().slice(0, 10)}
          </text>
          {timeline.teams.map((team, row) => {
            const top = AXIS_HEIGHT + row * ROW_HEIGHT;
            return (
              <g data-team={team.team}>
                <text x={8} y={top + ROW_HEIGHT / 2 + 4} font-size="13" fill="#1d2330">
                  {`${team.team} (${team.total})`}
                </text>
                <line x1={LABEL_WIDTH} x2={LABEL_WIDTH + CHART_WIDTH} y1={top + ROW_HEIGHT - 6} y2={top + ROW_HEIGHT - 6} stroke="#c7ccd6" />
                {team.buckets.map((bucket, index) => {
                  if (bucket.count === 0) return null;
                  const barHeight = Math.max(3, ((ROW_HEIGHT - 12) * bucket.count) / timeline.maxCount);
                  return (
                    <rect x={LABEL_WIDTH + index * sliceWidth + 1} y={top + ROW_HEIGHT - 6 - barHeight} width={Math.max(2, sliceWidth - 2)} height={barHeight} fill={index === 0 ? '#b3362f' : '#2f5fd0'}>
                      <title>{`${team.team}: ${bucket.count} expiring ${bucket.start.toISOString().slice(0, 10)} – ${bucket.end.toISOString().slice(0, 10)}`}</title>
                    </rect>
                  );
                })}
              </g>
            );
          })}
        </svg>
      )}
    </>
  );
}
