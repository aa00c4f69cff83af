// The ROC curve (true against false positive rate) as a line over the chance diagonal, with its AUC.
import { linear } from "./chartScale";
import type { RocPoint } from "./roc";

const W = 300;
const H = 250;
const M = { left: 40, right: 10, top: 10, bottom: 36 };

export function RocCurve({ points, auc, positive }: { points: RocPoint[]; auc?: number; positive: string }) {
  const x = linear(0, 1, M.left, W - M.right, 6);
  const y = linear(0, 1, H - M.bottom, M.top, 6);
  const line = points.map((p, i) => `${i ? "L" : "M"}${x(p.fpr).toFixed(1)},${y(p.tpr).toFixed(1)}`).join("");
  const area = `${line}L${x(1)},${y(0)}L${x(0)},${y(0)}Z`;

  return (
    <figure className="chart" data-testid="roc-curve">
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img"
        aria-label={`ROC curve for class ${positive}${auc != null ? `, area under the curve ${auc.toFixed(3)}` : ""}`}>
        {x.ticks.map((t) => (
          <g key={`x${t}`}>
            <line x1={x(t)} x2={x(t)} y1={y(0)} y2={y(1)} className="grid" />
            <text x={x(t)} y={H - M.bottom + 14} className="tick" textAnchor="middle">{t}</text>
          </g>
        ))}
        {y.ticks.map((t) => (
          <g key={`y${t}`}>
            <line x1={x(0)} x2={x(1)} y1={y(t)} y2={y(t)} className="grid" />
            <text x={M.left - 6} y={y(t) + 3} className="tick" textAnchor="end">{t}</text>
          </g>
        ))}
        <line x1={x(0)} y1={y(0)} x2={x(1)} y2={y(1)} className="chance" />
        <path d={area} className="area" />
        <path d={line} className="curve" />
        {auc != null && (
          <text x={x(0.96)} y={y(0.06)} textAnchor="end" className="chart-label">AUC = {auc.toFixed(3)}</text>
        )}
        <text x={(M.left + W - M.right) / 2} y={H - 4} className="axis-title" textAnchor="middle">False positive rate</text>
        <text x={10} y={(M.top + H - M.bottom) / 2} className="axis-title" textAnchor="middle"
          transform={`rotate(-90 10 ${(M.top + H - M.bottom) / 2})`}>True positive rate</text>
      </svg>
      <figcaption>Positive class: {positive} · dashed: a random guess</figcaption>
    </figure>
  );
}
