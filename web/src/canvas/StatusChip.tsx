// The run status of a node, as a small chip under its header.
import { formatDuration } from "../runs/format";
import { STATUS_TEXT } from "../runs/nodeStatus";
import type { NodeRunStatus } from "../state/editor";

export function StatusChip({ status }: { status: NodeRunStatus }) {
  const duration = status.duration_s != null ? ` · ${formatDuration(status.duration_s)}` : "";
  return (
    <div className={`fz-status-chip chip-${status.status}`} title={status.error ?? undefined} data-testid="node-status">
      {status.status === "running" ? <span className="spinner" /> : <span className="dot" />}
      {STATUS_TEXT[status.status]}
      {duration}
      {status.error && <span className="fz-status-error">{status.error}</span>}
    </div>
  );
}

