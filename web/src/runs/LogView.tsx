// The shown run's log lines, live: time, level, node and message; all nodes or only the selected one.
import { useEffect, useMemo, useRef, useState } from "react";
import { useEditor } from "../state/editor";
import { formatClock } from "./format";
import { useRuns } from "./runStore";

export function LogView() {
  const logs = useRuns((s) => s.logs);
  const run = useRuns((s) => s.run);
  const following = useRuns((s) => s.following);
  const selectedId = useEditor((s) => s.selectedNodeId);
  const nodes = useEditor((s) => s.nodes);
  const select = useEditor((s) => s.select);
  const [onlySelected, setOnlySelected] = useState(false);
  const [autoScroll, setAutoScroll] = useState(true);
  const list = useRef<HTMLDivElement>(null);

  const labels = useMemo(() => {
    const byId: Record<string, string> = {};
    for (const [id, node] of Object.entries(run?.nodes ?? {})) byId[id] = node.label ?? id;
    for (const node of nodes) byId[node.id] = node.data.label;
    return byId;
  }, [run, nodes]);

  const filtering = onlySelected && !!selectedId;
  const shown = filtering ? logs.filter((l) => l.node_id === selectedId) : logs;

  useEffect(() => {
    if (autoScroll && list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [shown.length, autoScroll]);

  const onScroll = () => {
    const el = list.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    if (atBottom !== autoScroll) setAutoScroll(atBottom);
  };

  return (
    <div className="log-view">
      <div className="panel-toolbar">
        <div className="segmented" role="group" aria-label="Show log lines of">
          <button type="button" aria-pressed={!filtering} onClick={() => setOnlySelected(false)}>
            All nodes
          </button>
          <button
            type="button"
            aria-pressed={filtering}
            disabled={!selectedId}
            title={selectedId ? undefined : "Select a node on the canvas first"}
            onClick={() => setOnlySelected(true)}
          >
            {selectedId ? `Selected: ${labels[selectedId] ?? selectedId}` : "Selected node"}
          </button>
        </div>
        <span className="panel-toolbar-note">
          {shown.length} line{shown.length === 1 ? "" : "s"}
          {following && run && " · live"}
        </span>
        <label className="check-label">
          <input type="checkbox" checked={autoScroll} onChange={(e) => setAutoScroll(e.target.checked)} /> Auto-scroll
        </label>
      </div>
      <div className="log-lines" ref={list} onScroll={onScroll} role="log" aria-live="polite" aria-label="Run log">
        {shown.length === 0 ? (
          <p className="panel-empty">
            {!run
              ? "No run yet. Click Run in the top bar: the log of each node appears here as it runs."
              : filtering
                ? `No log lines from ${labels[selectedId!] ?? selectedId} in this run.`
                : following
                  ? "Waiting for the first log lines…"
                  : "This run has no log lines."}
          </p>
        ) : (
          shown.map((line, i) => (
            <div key={i} className={`log-line level-${line.level.toLowerCase()}`}>
              <time className="log-time" dateTime={line.timestamp}>{formatClock(line.timestamp)}</time>
              <span className="log-level">{line.level}</span>
              {line.node_id ? (
                <button type="button" className="log-node" title={`Select ${line.node_id}`} onClick={() => select(line.node_id)}>
                  {labels[line.node_id] ?? line.node_id}
                </button>
              ) : (
                <span className="log-node flow">flow</span>
              )}
              <span className="log-message">{line.message}</span>
            </div>
          ))
        )}
      </div>
    </div>
  );
}
