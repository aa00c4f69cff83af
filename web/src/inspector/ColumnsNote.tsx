// Where the column choices come from: a sample of the upstream data (or why there are none yet).
import { ProblemList } from "./ProblemList";
import type { ColumnsState } from "./useColumns";

export function ColumnsNote({ columns }: { columns: ColumnsState }) {
  const inputs = Object.values(columns.result?.inputs ?? {});
  const rows = inputs.length ? Math.max(...inputs.map((i) => i.rows)) : null;
  const upstream = columns.result?.problems ?? [];
  return (
    <div className="columns-note" data-testid="columns-note">
      {columns.loading && !columns.result ? (
        <span className="columns-loading">
          <span className="spinner" /> Computing the input columns…
        </span>
      ) : columns.error ? (
        <span className="field-error">Could not compute the input columns: {columns.error}</span>
      ) : rows !== null ? (
        <span className="muted">
          Column choices computed from a sample of {rows.toLocaleString()} rows
          {columns.loading && <span className="spinner inline" />}
        </span>
      ) : (
        <span className="muted">Connect an input to choose its columns.</span>
      )}
      {upstream.length > 0 && (
        <div className="columns-upstream">
          <span className="muted">Upstream problem:</span>
          <ProblemList problems={upstream} showNode />
        </div>
      )}
    </div>
  );
}
