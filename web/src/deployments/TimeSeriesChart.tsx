// A monitoring series over time: lines (with a dot at each result) or bars, optional dashed reference lines,
// and a legend. One slot per result, labelled with its window's end: runs on demand between scheduled ones
// would crowd a time axis.
import { formatTick, linear } from "../results/chartScale";

const W = 420;
const H = 220;
const M = { left: 48, right: 14, top: 12, bottom: 40 };
const MOST_POINTS = 40; // more results than this: the line alone

export type Series = { name: string; values: (number | null)[] };
export type ReferenceLine = { label: string; value: number };

type Props = {
  title: string;
  times: string[];
  series: Series[];
  yTitle: string;
  references?: ReferenceLine[];
  bars?: boolean;
  fromZero?: boolean;
  testId: string;
};

export function TimeSeriesChart({ title, times, series, yTitle, references = [], bars = false, fromZero = false, testId }: Props) {
  const stamps = times.map((t) => Date.parse(t));
  const values = series.flatMap((s) => s.values).filter((v): v is number => v != null);
  const lows = [...values, ...references.map((r) => r.value)];
  const y = linear(fromZero ? 0 : Math.min(...lows), Math.max(...lows, fromZero ? 1 : -Infinity), H - M.bottom, M.top, 5);
  const slot = (W - M.left - M.right) / Math.max(1, stamps.length);
  const x = (i: number) => M.left + (i + 0.5) * slot;
  const y0 = y.ticks[0];
  const highest = Math.max(...references.map((r) => r.value));
  const barWidth = Math.min(22, slot * 0.6);
  const shownTicks = tickIndexes(stamps.length, 4);
  const label = timeFormat(stamps);

  return (
    <figure className="chart trend-chart" data-testid={testId}>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={`${title}: ${describe(series)}`}>
        {y.ticks.map((t) => (
          <g key={t}>
            <line x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} className="grid" />
            <text x={M.left - 6} y={y(t) + 3} className="tick" textAnchor="end">{formatTick(t)}</text>
          </g>
        ))}
        {shownTicks.map((i) => (
          <text key={i} x={x(i)} y={H - M.bottom + 14} className="tick" textAnchor="middle">{label(stamps[i])}</text>
        ))}
        {references.map((r) => (
          <g key={r.label}>
            <line x1={M.left} x2={W - M.right} y1={y(r.value)} y2={y(r.value)} className="chance" />
            {/* The highest line's label above it, the others' below: two close lines keep their labels apart. */}
            <text x={W - M.right} y={y(r.value) + (r.value === highest ? -4 : 11)} textAnchor="end" className="tick value-label">
              {r.label}
            </text>
          </g>
        ))}
        {series.map((s, k) =>
          bars ? (
            s.values.map((v, i) => v != null && (
              <rect key={`${s.name}${i}`} x={x(i) - barWidth / 2} y={y(v)} width={barWidth}
                height={Math.max(0, y(y0) - y(v))} rx={2} className="bar">
                <title>{`${new Date(stamps[i]).toLocaleString()}: ${v}`}</title>
              </rect>
            ))
          ) : (
            <g key={s.name} className={`series series-${k}`}>
              <path d={linePath(s.values, x, y)} className="curve" />
              {stamps.length <= MOST_POINTS && s.values.map((v, i) => v != null && (
                <circle key={i} cx={x(i)} cy={y(v)} r={3} className="point">
                  <title>{`${s.name} at ${new Date(stamps[i]).toLocaleString()}: ${+v.toPrecision(4)}`}</title>
                </circle>
              ))}
            </g>
          ),
        )}
        <line x1={M.left} x2={W - M.right} y1={y(y0)} y2={y(y0)} className="axis" />
        <text x={12} y={(M.top + H - M.bottom) / 2} className="axis-title" textAnchor="middle"
          transform={`rotate(-90 12 ${(M.top + H - M.bottom) / 2})`}>{yTitle}</text>
        <text x={(M.left + W - M.right) / 2} y={H - 4} className="axis-title" textAnchor="middle">
          End of each monitored window
        </text>
      </svg>
      {!bars && series.length > 1 && (
        <figcaption className="legend">
          {series.map((s, k) => (
            <span key={s.name} className={`legend-item series-${k}`}><span className="swatch" />{s.name}</span>
          ))}
        </figcaption>
      )}
    </figure>
  );
}

/** An SVG path through the points that have a value; a missing value breaks the line. */
function linePath(values: (number | null)[], x: (i: number) => number, y: (v: number) => number): string {
  let path = "";
  let open = false;
  values.forEach((v, i) => {
    if (v == null) {
      open = false;
      return;
    }
    path += `${open ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    open = true;
  });
  return path;
}

/** At most `count` indexes spread evenly over `length` points, first and last included. */
function tickIndexes(length: number, count: number): number[] {
  if (length <= count) return [...Array(length).keys()];
  const step = (length - 1) / (count - 1);
  return [...new Set([...Array(count).keys()].map((k) => Math.round(k * step)))];
}

/** How to label the times: with seconds when they all fall within ten minutes, with the date over days. */
function timeFormat(stamps: number[]): (ms: number) => string {
  const span = Math.max(...stamps) - Math.min(...stamps);
  const sameDay = new Date(Math.min(...stamps)).toDateString() === new Date(Math.max(...stamps)).toDateString();
  const options: Intl.DateTimeFormatOptions = span < 10 * 60_000 ? { hour: "2-digit", minute: "2-digit", second: "2-digit" }
    : sameDay ? { hour: "2-digit", minute: "2-digit" } : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
  return (ms) => new Date(ms).toLocaleString([], options);
}

function describe(series: Series[]): string {
  return series
    .map((s) => {
      const last = [...s.values].reverse().find((v) => v != null);
      return `${s.name} ${last != null ? `latest ${+last.toPrecision(4)}` : "no values"}`;
    })
    .join(", ");
}
