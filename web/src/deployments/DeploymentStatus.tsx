// A deployment's status as a pill: loading (blue, spinning), ready (green), failed (red).
const LOOK: Record<string, [string, string]> = {
  loading: ["status-running", "Loading"],
  ready: ["status-completed", "Ready"],
  failed: ["status-failed", "Failed"],
};

export function DeploymentStatus({ status }: { status: string }) {
  const [className, text] = LOOK[status] ?? ["status-queued", status];
  return (
    <span className={`status-badge ${className}`} data-testid="deployment-status">
      {status === "loading" ? <span className="spinner" /> : <span className="run-dot" />}
      {text}
    </span>
  );
}
