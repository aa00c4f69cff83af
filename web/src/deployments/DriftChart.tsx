// Drift per feature as horizontal bars of PSI (population stability index), largest first, with the
// deployment's threshold as a dashed line. A feature drifted (red) when its PSI is past the threshold and its
// test's p-value below the deployment's; one with too few rows in the window is greyed, not judged.
import { formatTick, linear } from "../results/chartScale";
import type { Deployment, FeatureDrift } from "./deploymentTypes";

const W = 440;
const LABEL = 118;
const VALUE = 78;
const ROW = 22;
const AXIS = 30;

export function DriftChart({ drift, thresholds }: { drift: Record<string, FeatureDrift>; thresholds: Deployment["thresholds"] }) {
  const threshold = thresholds.drift_psi;
  const rows = Object.entries(drift).sort((a, b) => (b[1].psi ?? -1) - (a[1].psi ?? -1));
  const top = 16;
  const H = top + rows.length * ROW + AXIS;
  const x = linear(0, Math.max(threshold * 1.25, ...rows.map(([, d]) => d.psi ?? 0)), LABEL, W - VALUE, 5);
  const bottom = top + rows.length * ROW;
  const drifted = rows.filter(([, d]) => d.drifted).map(([name]) => name);

  return (
    <figure className="chart" data-testid="drift-chart">
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img"
        aria-label={`Drift per feature (PSI): ${drifted.length ? `${drifted.join(", ")} drifted` : "no feature drifted"}`}>
        {x.ticks.map((t) => (
          <g key={t}>
            <line x1={x(t)} x2={x(t)} y1={top} y2={bottom} className="grid" />
            <text x={x(t)} y={bottom + 13} className="tick" textAnchor="middle">{formatTick(t)}</text>
          </g>
        ))}
        <line x1={x(threshold)} x2={x(threshold)} y1={top - 6} y2={bottom} className="threshold" />
        <text x={x(threshold)} y={top - 8} textAnchor="middle" className="tick threshold-label">threshold {threshold}</text>
        {rows.map(([name, d], i) => {
          const label = name.length > 19 ? `${name.slice(0, 18)}…` : name;
          const width = d.psi == null ? 0 : Math.max(1, x(d.psi) - x(0));
          return (
            <g key={name} transform={`translate(0 ${top + i * ROW})`} data-testid={`drift-${name}`}
              data-drifted={d.drifted || undefined}>
              <title>{`${name} (${d.kind}, ${d.rows} rows): PSI ${fixed(d.psi, 3)}, p-value ${d.p_value == null ? "—" : d.p_value.toPrecision(3)}${d.drifted ? " — drifted" : ""}`}</title>
              <text x={LABEL - 6} y={ROW / 2 + 3} textAnchor="end" className={`tick bar-label ${d.drifted ? "drifted-label" : ""}`}>
                {label}
              </text>
              <rect x={LABEL} y={4} width={width} height={ROW - 8} rx={2}
                className={d.drifted ? "bar drifted" : d.rows < thresholds.min_rows ? "bar few" : "bar"} />
              <text x={LABEL + width + 4} y={ROW / 2 + 3} className="tick value-label">
                {d.psi == null ? "not measured" : fixed(d.psi, 3)}
                {d.drifted ? " drifted" : d.rows < thresholds.min_rows ? ` · ${d.rows} rows` : ""}
              </text>
            </g>
          );
        })}
        <text x={(LABEL + W - VALUE) / 2} y={H - 3} className="axis-title" textAnchor="middle">
          PSI against the training rows
        </text>
      </svg>
      <figcaption>
        {drifted.length ? `${drifted.length} of ${rows.length} features drifted` : `None of ${rows.length} features drifted`}
        {" "}(PSI past the dashed line and p-value below {thresholds.drift_p_value})
        {rows.some(([, d]) => d.rows < thresholds.min_rows) && ` · grey: fewer than ${thresholds.min_rows} rows, not judged`}
      </figcaption>
    </figure>
  );
}

function fixed(value: number | null, digits: number): string {
  return value == null ? "—" : value.toFixed(digits);
}
