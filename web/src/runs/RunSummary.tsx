// The shown run in one line, right of the panel's tabs: id, version, status, duration, Prefect and MLflow links.
import { formatDuration, secondsBetween, shortId } from "./format";
import { runDisplayStatus } from "./nodeStatus";
import { mlflowRunLink, prefectRunLink } from "./links";
import { RunIcon } from "./RunIcon";
import { StatusBadge } from "./StatusBadge";
import { useRuns } from "./runStore";

export function RunSummary() {
  const run = useRuns((s) => s.run);
  const connection = useRuns((s) => s.connection);
  if (!run) return null;
  const prefect = prefectRunLink(run);
  const mlflow = mlflowRunLink(run);
  const took = secondsBetween(run.started_at, run.finished_at);

  return (
    <div className="run-summary">
      <StatusBadge status={runDisplayStatus(run)} testId="panel-run-status" />
      <span className="run-summary-id" title={run.run_id}>
        Run {shortId(run.run_id)} · v{run.workflow_version}
        {run.started_at && ` · ${formatDuration(took)}`}
      </span>
      {connection === "polling" && <span className="run-summary-note" title="The live connection dropped">polling</span>}
      {prefect && (
        <a className="ext-link" href={prefect} target="_blank" rel="noreferrer">
          Prefect <RunIcon name="external" size={12} />
        </a>
      )}
      {mlflow && (
        <a className="ext-link" href={mlflow} target="_blank" rel="noreferrer">
          MLflow <RunIcon name="external" size={12} />
        </a>
      )}
    </div>
  );
}
