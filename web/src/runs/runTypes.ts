// Shapes of a run's free-form parts (the OpenAPI document types `nodes` and `error` as plain objects).
import type { components } from "../api/schema";
import type { NodeWarning } from "../api/types";

/** What a node's output port produced: a table, a model or metrics, as the run record summarises it. */
export type OutputSummary = {
  kind: "dataset" | "model" | "metrics" | string;
  // dataset
  rows?: number;
  columns?: string[];
  dtypes?: Record<string, string>;
  null_counts?: Record<string, number>;
  head?: Record<string, unknown>[];
  // json, text: the value itself
  value?: unknown;
  // metrics
  values?: Record<string, unknown>;
  artifacts?: string[];
  // model
  task?: string;
  target?: string;
  estimator?: string;
  input_columns?: string[];
  features?: number;
  classes?: unknown[];
  model_uri?: string;
  registered?: { name: string; version: number; alias?: string | null; model_uri?: string };
};

export type NodeError = { code?: string; message?: string; type?: string; details?: unknown };
/** Why a run failed: its error code, message and the node it concerns (when one). */
export type RunError = NodeError & { node_id?: string | null };

export type RunNode = {
  type?: string;
  label?: string;
  status: string;
  cached?: boolean;
  started_at?: string | null;
  finished_at?: string | null;
  duration_s?: number | null;
  outputs?: Record<string, OutputSummary>;
  metrics?: Record<string, unknown>;
  error?: NodeError | string | null;
  warnings?: NodeWarning[];
};

type RunPublic = components["schemas"]["RunPublic"];
export type Run = Omit<RunPublic, "nodes" | "error"> & {
  nodes: Record<string, RunNode>;
  error?: RunError | null;
  /** Links the API may add (Prefect flow run, MLflow run); see links.ts. */
  links?: Record<string, string>;
};

export type LogLine = { timestamp: string; level: string; node_id: string | null; message: string };

// crashed: the worker running it stopped; final, and a rerun continues from its finished nodes.
export const FINISHED = new Set(["completed", "failed", "cancelled", "crashed"]);

export function isFinished(run: Pick<Run, "status"> | null | undefined): boolean {
  return !!run && FINISHED.has(run.status);
}

export function errorText(error: RunNode["error"]): string | undefined {
  if (!error) return undefined;
  if (typeof error === "string") return error;
  return error.message ?? error.code ?? error.type;
}

/** Why a failed (or crashed) run ended: its own error, else the first failed node's; null otherwise. */
export function runFailure(run: Run): { message: string; code?: string; nodeId: string | null } | null {
  if (run.status !== "failed" && run.status !== "crashed") return null;
  const failed = Object.entries(run.nodes ?? {}).find(([, n]) => n.status === "failed");
  if (run.error && (run.error.message || run.error.code)) {
    const nodeId = run.error.node_id ?? failed?.[0] ?? null;
    return { message: errorText(run.error) ?? "failed", code: run.error.code, nodeId };
  }
  if (!failed) return { message: "the run failed before any node did", nodeId: null };
  const [nodeId, node] = failed;
  const error = typeof node.error === "object" && node.error ? node.error : undefined;
  return { message: errorText(node.error) ?? "failed", code: error?.code, nodeId };
}
