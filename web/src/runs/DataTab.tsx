// The run panel's Data tab: the table a node produced, wide, a page at a time.
import { DataTable } from "../results/DataTable";
import { useRuns } from "./runStore";
import "../results/results.css";

export function DataTab() {
  const run = useRuns((s) => s.run);
  const table = useRuns((s) => s.table);
  const output = table ? run?.nodes[table.nodeId]?.outputs?.[table.port] : undefined;
  if (!run || !table || !output) {
    return <p className="panel-empty">Pick a table in a node's Results tab (Open in panel) to see it here.</p>;
  }
  return <DataTable runId={run.run_id} nodeId={table.nodeId} port={table.port} output={output} pageSize={50} wide />;
}
