// The shown run in one line, right of the panel's tabs: id, version, status, duration, why it failed, Prefect
// and MLflow links.
import { formatDuration, secondsBetween, shortRunId } from "./format";
import { runDisplayStatus } from "./nodeStatus";
import { RunFailure } from "./RunFailure";
import { RunLinks } from "./RunLinks";
import { StatusBadge } from "./StatusBadge";
import { useRuns } from "./runStore";

export function RunSummary() {
  const run = useRuns((s) => s.run);
  const connection = useRuns((s) => s.connection);
  if (!run) return null;
  const took = secondsBetween(run.started_at, run.finished_at);

  return (
    <div className="run-summary">
      <StatusBadge status={runDisplayStatus(run)} testId="panel-run-status" />
      <span className="run-summary-id" title={run.run_id}>
        Run {shortRunId(run.run_id)} · v{run.workflow_version}
        {run.started_at && ` · ${formatDuration(took)}`}
      </span>
      <RunFailure run={run} />
      {connection === "polling" && <span className="run-summary-note" title="The live connection dropped">polling</span>}
      <RunLinks run={run} />
    </div>
  );
}
