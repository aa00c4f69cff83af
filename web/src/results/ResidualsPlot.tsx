// Residuals (actual − predicted) against the prediction: a regression model's errors should scatter evenly
// around zero.
import { formatTick, linear } from "./chartScale";

const W = 300;
const H = 230;
const M = { left: 44, right: 10, top: 10, bottom: 36 };

export function ResidualsPlot({ points }: { points: { predicted: number; residual: number }[] }) {
  const xs = points.map((p) => p.predicted);
  const ys = points.map((p) => p.residual);
  const spread = Math.max(...ys.map(Math.abs), 1e-9);
  const x = linear(Math.min(...xs), Math.max(...xs), M.left, W - M.right, 5);
  const y = linear(-spread, spread, H - M.bottom, M.top, 5);
  const [x0, x1] = [x.ticks[0], x.ticks[x.ticks.length - 1]];

  return (
    <figure className="chart" data-testid="residuals-plot">
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img"
        aria-label={`Residuals of ${points.length} test rows against the predicted value`}>
        {x.ticks.map((t) => (
          <g key={`x${t}`}>
            <line x1={x(t)} x2={x(t)} y1={y(y.ticks[0])} y2={y(y.ticks[y.ticks.length - 1])} className="grid" />
            <text x={x(t)} y={H - M.bottom + 14} className="tick" textAnchor="middle">{formatTick(t)}</text>
          </g>
        ))}
        {y.ticks.map((t) => (
          <g key={`y${t}`}>
            <line x1={x(x0)} x2={x(x1)} y1={y(t)} y2={y(t)} className="grid" />
            <text x={M.left - 6} y={y(t) + 3} className="tick" textAnchor="end">{formatTick(t)}</text>
          </g>
        ))}
        <line x1={x(x0)} x2={x(x1)} y1={y(0)} y2={y(0)} className="chance" />
        {points.map((p, i) => (
          <circle key={i} cx={x(p.predicted)} cy={y(p.residual)} r={2.6} className="dot" />
        ))}
        <text x={(M.left + W - M.right) / 2} y={H - 4} className="axis-title" textAnchor="middle">Predicted value</text>
        <text x={10} y={(M.top + H - M.bottom) / 2} className="axis-title" textAnchor="middle"
          transform={`rotate(-90 10 ${(M.top + H - M.bottom) / 2})`}>Actual − predicted</text>
      </svg>
      <figcaption>{points.length} test rows · dashed: no error</figcaption>
    </figure>
  );
}
