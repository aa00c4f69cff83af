// Where the column choices come from: a sample of the upstream data (or why there are none yet).
import { ProblemList } from "./ProblemList";
import type { ColumnsState } from "./useColumns";

/** Where the column choices come from; `problemsOnly` for a node that asked only for its model's task. */
export function ColumnsNote({ columns, problemsOnly }: { columns: ColumnsState; problemsOnly?: boolean }) {
  const sizes = Object.values(columns.result?.inputs ?? {}).flatMap((i) => (i.rows != null ? [i.rows] : []));
  const rows = sizes.length ? Math.max(...sizes) : null;
  const upstream = columns.result?.problems ?? [];
  if (problemsOnly && !upstream.length) return null;
  return (
    <div className="columns-note" data-testid="columns-note">
      {problemsOnly ? (
        <span className="muted">The choices below depend on the input model, which a sample could not train.</span>
      ) : columns.loading && !columns.result ? (
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
