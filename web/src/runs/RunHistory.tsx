// The workflow's runs, newest first: status, when, how long, nodes, why it failed; click one to show its states
// and results (a click on why it failed also selects the node it names).
import { useEffect } from "react";
import { useEditor } from "../state/editor";
import { Icon } from "../ui/Icon";
import { formatDuration, formatWhen, secondsBetween, shortRunId } from "./format";
import { runDisplayStatus } from "./nodeStatus";
import { RunFailure } from "./RunFailure";
import { RunLinks } from "./RunLinks";
import { RunIcon } from "./RunIcon";
import { StatusBadge } from "./StatusBadge";
import { useRuns } from "./runStore";
import { runFailure, type Run } from "./runTypes";

export function RunHistory() {
  const workflowId = useEditor((s) => s.workflowId);
  const history = useRuns((s) => s.history);
  const loading = useRuns((s) => s.historyLoading);
  const error = useRuns((s) => s.historyError);
  const shownId = useRuns((s) => s.run?.run_id);
  const load = useRuns((s) => s.loadHistory);
  const show = useRuns((s) => s.show);

  useEffect(() => {
    void load();
  }, [load, workflowId]);

  if (!workflowId) {
    return <p className="panel-empty">Save or run the workflow to keep a history of its runs.</p>;
  }
  return (
    <div className="run-history">
      <div className="panel-toolbar">
        <span className="panel-toolbar-note">
          {history.length ? `${history.length} run${history.length === 1 ? "" : "s"} of this workflow, newest first` : ""}
        </span>
        <button type="button" className="btn btn-ghost btn-sm" onClick={() => void load()} disabled={loading}>
          <RunIcon name="refresh" size={13} /> Refresh
        </button>
      </div>
      {error && (
        <p className="panel-error">
          <Icon name="alert" size={14} /> {error}
        </p>
      )}
      {!error && history.length === 0 && !loading && (
        <p className="panel-empty">This workflow has not run yet. Click Run in the top bar.</p>
      )}
      {history.length > 0 && (
        <div className="history-scroll">
          <table className="history-table">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Run</th>
                <th scope="col">Version</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col">Nodes</th>
                <th scope="col">Links</th>
              </tr>
            </thead>
            {history.map((run) => (
              <HistoryRow key={run.run_id} run={run} current={run.run_id === shownId} onShow={() => void show(run.run_id)} />
            ))}
          </table>
        </div>
      )}
    </div>
  );
}

const COLUMNS = 7; // of the table: a failed run's reason spans them all, on a line of its own

function HistoryRow({ run, current, onShow }: { run: Run; current: boolean; onShow: () => void }) {
  const nodes = Object.values(run.nodes ?? {});
  const cached = nodes.filter((n) => n.cached).length;
  const failed = nodes.filter((n) => n.status === "failed").length;
  const failure = runFailure(run);
  const rowClass = [current ? "current" : "", failure ? "has-failure" : ""].join(" ").trim() || undefined;
  return (
    <tbody className={rowClass} onClick={onShow} data-testid={`run-row-${run.run_id}`}>
      <tr>
        <td>
          <StatusBadge status={runDisplayStatus(run)} />
        </td>
        <td>
          <button
            type="button"
            className="text-btn mono"
            aria-label={`Show run ${shortRunId(run.run_id)}`}
            aria-current={current || undefined}
            title={run.run_id}
            onClick={(e) => {
              e.stopPropagation();
              onShow();
            }}
          >
            {shortRunId(run.run_id)}
          </button>
          {current && <span className="shown-tag">shown</span>}
        </td>
        <td>v{run.workflow_version}</td>
        <td title={run.started_at ?? run.created_at}>{formatWhen(run.started_at ?? run.created_at)}</td>
        <td>{run.started_at ? formatDuration(secondsBetween(run.started_at, run.finished_at)) : "—"}</td>
        <td>
          {run.progress.done}/{run.progress.total}
          {cached > 0 && <span className="muted"> · {cached} cached</span>}
          {failed > 0 && <span className="text-failed"> · {failed} failed</span>}
        </td>
        <td className="links-cell" onClick={(e) => e.stopPropagation()}>
          <RunLinks run={run} />
        </td>
      </tr>
      {failure && (
        <tr className="failure-row">
          <td colSpan={COLUMNS}>
            <RunFailure run={run} onPick={onShow} />
          </td>
        </tr>
      )}
    </tbody>
  );
}
