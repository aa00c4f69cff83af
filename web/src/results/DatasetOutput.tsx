// A table output in the inspector: size, a preview or the columns' types and missing values, CSV download,
// and a button that opens it wide in the run panel.
import { useState } from "react";
import { useRuns } from "../runs/runStore";
import { RunIcon } from "../runs/RunIcon";
import type { OutputSummary } from "../runs/runTypes";
import { ColumnStats } from "./ColumnStats";
import { DataTable } from "./DataTable";

type Props = { runId: string; nodeId: string; port: string; output: OutputSummary };

export function DatasetOutput({ runId, nodeId, port, output }: Props) {
  const [view, setView] = useState<"preview" | "columns">("preview");
  const openTable = useRuns((s) => s.openTable);
  const missing = Object.values(output.null_counts ?? {}).reduce((a, b) => a + b, 0);

  return (
    <div className="dataset-output">
      <p className="output-facts">
        <strong>{(output.rows ?? 0).toLocaleString()}</strong> rows · <strong>{output.columns?.length ?? 0}</strong> columns
        {missing > 0 && <> · <span className="text-warning">{missing.toLocaleString()} missing values</span></>}
      </p>
      <div className="output-toolbar">
        <div className="segmented small" role="group" aria-label={`${port}: view`}>
          <button type="button" aria-pressed={view === "preview"} onClick={() => setView("preview")}>Preview</button>
          <button type="button" aria-pressed={view === "columns"} onClick={() => setView("columns")}>Columns</button>
        </div>
        <button type="button" className="btn btn-sm" onClick={() => openTable(nodeId, port)}>
          <RunIcon name="table" size={13} /> Open in panel
        </button>
      </div>
      {view === "preview" ? (
        <DataTable runId={runId} nodeId={nodeId} port={port} output={output} pageSize={10} />
      ) : (
        <ColumnStats output={output} />
      )}
    </div>
  );
}
