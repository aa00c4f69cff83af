// The top bar's run controls: Run (with a menu for "Run without cache"; Shift+click does the same), Cancel
// while a run is going, a compact progress indicator, and what went wrong when a run could not start.
import { useEffect } from "react";
import { RunIcon } from "./RunIcon";
import { RunMenu } from "./RunMenu";
import { RunNotice } from "./RunNotice";
import { RunProgress } from "./RunProgress";
import { useRuns } from "./runStore";
import { isFinished } from "./runTypes";
import "./runs.css";

export function RunControls() {
  const run = useRuns((s) => s.run);
  const following = useRuns((s) => s.following);
  const starting = useRuns((s) => s.starting);
  const cancelling = useRuns((s) => s.cancelling);
  const notice = useRuns((s) => s.notice);
  const start = useRuns((s) => s.start);
  const cancel = useRuns((s) => s.cancel);
  const active = following && !!run && !isFinished(run);
  useRunShortcut();

  return (
    <div className="run-controls">
      {run && <RunProgress run={run} active={active} />}
      {active ? (
        <button type="button" className="btn btn-stop" onClick={() => void cancel()} disabled={cancelling}>
          <RunIcon name="stop" filled size={12} /> {cancelling ? "Cancelling…" : "Cancel"}
        </button>
      ) : (
        <div className="split-btn">
          <button
            type="button"
            className="btn btn-primary run-btn"
            disabled={starting}
            title="Run the workflow, reusing unchanged results (Ctrl+Enter). Shift+click: run without cache."
            onClick={(e) => void start(!e.shiftKey)}
          >
            {starting ? <span className="spinner" /> : <RunIcon name="play" filled size={12} />}
            {starting ? "Starting…" : "Run"}
          </button>
          <RunMenu disabled={starting} onRun={(useCache) => void start(useCache)} />
        </div>
      )}
      {notice && <RunNotice notice={notice} />}
    </div>
  );
}

/** Ctrl/Cmd+Enter runs the workflow; with Shift, without cache. */
function useRunShortcut() {
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
      event.preventDefault();
      void useRuns.getState().start(!event.shiftKey);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
