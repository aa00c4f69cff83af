// The canvas's status words from the run record's: pending → queued, a reused result → cached.
import type { NodeRunStatus } from "../state/editor";
import { errorText, type Run, type RunNode } from "./runTypes";

const KNOWN = new Set(["queued", "running", "completed", "failed", "cached", "cancelled", "not_run"]);

export function canvasStatus(node: Pick<RunNode, "status" | "cached">): NodeRunStatus["status"] {
  if (node.status === "pending") return "queued";
  if (node.status === "completed" && node.cached) return "cached";
  return (KNOWN.has(node.status) ? node.status : "not_run") as NodeRunStatus["status"];
}

export function toNodeRunStatus(node: RunNode): NodeRunStatus {
  return {
    status: canvasStatus(node),
    duration_s: node.duration_s ?? undefined,
    error: errorText(node.error),
    warnings: node.warnings?.length ? node.warnings : undefined,
  };
}

export function runStatusMap(run: Run): Record<string, NodeRunStatus> {
  return Object.fromEntries(Object.entries(run.nodes).map(([id, node]) => [id, toNodeRunStatus(node)]));
}

export const STATUS_TEXT: Record<string, string> = {
  pending: "Queued",
  queued: "Queued",
  running: "Running",
  completed: "Completed",
  failed: "Failed",
  cached: "Cached",
  cancelled: "Cancelled",
  crashed: "Crashed",
  not_run: "Not run",
};

/** The run's status as shown: the API keeps "pending" until the run's row is refreshed, even once nodes ran. */
export function runDisplayStatus(run: Run): string {
  if (run.status !== "pending") return run.status;
  const started = run.progress.done > 0 || Object.values(run.nodes).some((n) => n.status !== "pending");
  return started ? "running" : "queued";
}
