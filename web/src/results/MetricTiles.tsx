// The scalar metrics as tiles: name and value, each value testable as `metric-<name>`.
import { formatMetric, metricTitle } from "./formatValue";

const ORDER = ["accuracy", "precision", "recall", "f1_score", "roc_auc", "rmse", "mae", "r2"];

export function scalarMetrics(values: Record<string, unknown>): [string, number][] {
  const scalars = Object.entries(values).filter((e): e is [string, number] => typeof e[1] === "number");
  const rank = (name: string) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length);
  return scalars.sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
}

export function MetricTiles({ metrics }: { metrics: [string, number][] }) {
  return (
    <dl className="metric-tiles">
      {metrics.map(([name, value]) => (
        <div key={name} className="metric-tile">
          <dt title={name}>{metricTitle(name)}</dt>
          <dd data-testid={`metric-${name}`} title={String(value)}>{formatMetric(value)}</dd>
        </div>
      ))}
    </dl>
  );
}
