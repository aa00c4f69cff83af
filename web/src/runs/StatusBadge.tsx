// A run's or node's status as a coloured pill (queued grey, running blue, completed green, failed red, …).
import { STATUS_TEXT } from "./nodeStatus";

export function StatusBadge({ status, cached, testId }: { status: string; cached?: boolean; testId?: string }) {
  const shown = status === "pending" ? "queued" : status === "completed" && cached ? "cached" : status;
  return (
    <span className={`status-badge status-${shown}`} data-testid={testId}>
      {shown === "running" ? <span className="spinner" /> : <span className="run-dot" />}
      {STATUS_TEXT[shown] ?? shown}
    </span>
  );
}
