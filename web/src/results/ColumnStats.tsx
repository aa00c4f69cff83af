// Each column of a table: its type and how many values are missing.
import type { OutputSummary } from "../runs/runTypes";

export function ColumnStats({ output }: { output: OutputSummary }) {
  const rows = output.rows ?? 0;
  const nulls = output.null_counts ?? {};
  return (
    <table className="column-stats">
      <thead>
        <tr>
          <th scope="col">Column</th>
          <th scope="col">Type</th>
          <th scope="col">Missing</th>
        </tr>
      </thead>
      <tbody>
        {(output.columns ?? []).map((c) => {
          const missing = nulls[c] ?? 0;
          const share = rows ? missing / rows : 0;
          return (
            <tr key={c}>
              <td className="col-name" title={c}>{c}</td>
              <td><span className="dtype">{output.dtypes?.[c] ?? "?"}</span></td>
              <td className={missing ? "has-missing" : "muted"}>
                <span className="missing-bar" aria-hidden="true"><span style={{ width: `${share * 100}%` }} /></span>
                {missing ? `${missing.toLocaleString()} (${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%)` : "0"}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
