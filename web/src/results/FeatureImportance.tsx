// Feature importance as horizontal bars, largest first; the ten largest unless asked for all.
import { useState } from "react";
import { formatTick } from "./chartScale";

const W = 300;
const LABEL = 104;
const VALUE = 44;
const ROW = 20;

export function FeatureImportance({ values }: { values: Record<string, number> }) {
  const [all, setAll] = useState(false);
  const sorted = Object.entries(values).sort((a, b) => b[1] - a[1]);
  const shown = all ? sorted : sorted.slice(0, 10);
  const max = Math.max(...sorted.map(([, v]) => Math.abs(v)), 1e-12);
  const barWidth = W - LABEL - VALUE;
  const H = shown.length * ROW + 4;

  return (
    <figure className="chart" data-testid="feature-importance">
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img"
        aria-label={`Feature importance: ${shown.slice(0, 3).map(([k]) => k).join(", ")} matter most`}>
        {shown.map(([name, value], i) => {
          const width = Math.max(1, (Math.abs(value) / max) * barWidth);
          const label = name.length > 16 ? `${name.slice(0, 15)}…` : name;
          return (
            <g key={name} transform={`translate(0 ${i * ROW + 2})`}>
              <title>{`${name}: ${value}`}</title>
              <text x={LABEL - 6} y={ROW / 2 + 2} textAnchor="end" className="tick bar-label">{label}</text>
              <rect x={LABEL} y={3} width={barWidth} height={ROW - 6} rx={2} className="bar-track" />
              <rect x={LABEL} y={3} width={width} height={ROW - 6} rx={2} className="bar" />
              <text x={LABEL + width + 4} y={ROW / 2 + 2} className="tick">{formatTick(value)}</text>
            </g>
          );
        })}
      </svg>
      {sorted.length > 10 && (
        <button type="button" className="text-btn small" onClick={() => setAll(!all)}>
          {all ? "Show the top 10" : `Show all ${sorted.length} features`}
        </button>
      )}
    </figure>
  );
}
