// The run status of a node, as a small chip under its header.
import type { NodeRunStatus } from "../state/editor";

const TEXT: Record<NodeRunStatus["status"], string> = {
  queued: "Queued",
  running: "Running",
  completed: "Completed",
  failed: "Failed",
  cached: "Cached",
  cancelled: "Cancelled",
  not_run: "Not run",
};

export function StatusChip({ status }: { status: NodeRunStatus }) {
  const duration = status.duration_s != null ? ` · ${formatDuration(status.duration_s)}` : "";
  return (
    <div className={`fz-status-chip chip-${status.status}`} title={status.error ?? undefined} data-testid="node-status">
      {status.status === "running" ? <span className="spinner" /> : <span className="dot" />}
      {TEXT[status.status]}
      {duration}
      {status.error && <span className="fz-status-error">{status.error}</span>}
    </div>
  );
}

function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} m ${Math.round(seconds % 60)} s`;
}
