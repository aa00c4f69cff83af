// Precision, recall, F1 and support for each class (scikit-learn's classification report).
import { formatMetric } from "./formatValue";

type Row = { precision?: number; recall?: number; "f1-score"?: number; support?: number };

export function ClassReport({ report }: { report: Record<string, Row | number> }) {
  const rows = Object.entries(report).filter((e): e is [string, Row] => typeof e[1] === "object" && e[1] !== null);
  return (
    <table className="class-report">
      <thead>
        <tr>
          <th scope="col">Class</th>
          <th scope="col">Precision</th>
          <th scope="col">Recall</th>
          <th scope="col">F1</th>
          <th scope="col">Support</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([name, row]) => (
          <tr key={name} className={name.includes("avg") ? "summary-row" : undefined}>
            <th scope="row">{name}</th>
            <td>{row.precision != null ? formatMetric(row.precision) : ""}</td>
            <td>{row.recall != null ? formatMetric(row.recall) : ""}</td>
            <td>{row["f1-score"] != null ? formatMetric(row["f1-score"]) : ""}</td>
            <td>{row.support != null ? Math.round(row.support) : ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
