// The compact state of the shown run in the top bar: a bar and n/m nodes while it runs, its outcome after.
import { useEditor } from "../state/editor";
import { formatDuration, secondsBetween } from "./format";
import { runDisplayStatus, STATUS_TEXT } from "./nodeStatus";
import type { Run } from "./runTypes";

export function RunProgress({ run, active }: { run: Run; active: boolean }) {
  const openPanel = () => useEditor.getState().setRunPanelOpen(true);
  const { done, percent } = run.progress;
  // Before the worker has written the record, the API reports 0 nodes in total: count the run's nodes instead.
  const total = run.progress.total || Object.keys(run.nodes).length;
  const status = runDisplayStatus(run);
  const took = secondsBetween(run.started_at, run.finished_at);

  return (
    <button
      type="button"
      className={`run-progress status-${status}`}
      onClick={openPanel}
      title="Show the run's logs"
      aria-label={`Run ${STATUS_TEXT[status] ?? status}: ${done} of ${total} nodes`}
    >
      {active ? <span className="spinner" /> : <span className="run-dot" />}
      <span className="run-progress-text">
        <span data-testid="run-status">{STATUS_TEXT[status] ?? status}</span>
        <span className="run-progress-count" data-testid="run-progress">
          {done}/{total}
          {active ? ` · ${Math.round(percent)}%` : took != null && run.finished_at ? ` · ${formatDuration(took)}` : ""}
        </span>
      </span>
      {active && (
        <span className="run-progress-bar" aria-hidden="true">
          <span style={{ width: `${Math.max(4, percent)}%` }} />
        </span>
      )}
    </button>
  );
}
