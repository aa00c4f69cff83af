// Shapes of a run's free-form parts (the OpenAPI document types `nodes` and `error` as plain objects).
import type { components } from "../api/schema";

/** What a node's output port produced: a table, a model or metrics, as the run record summarises it. */
export type OutputSummary = {
  kind: "dataset" | "model" | "metrics" | string;
  // dataset
  rows?: number;
  columns?: string[];
  dtypes?: Record<string, string>;
  null_counts?: Record<string, number>;
  head?: Record<string, unknown>[];
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
};

type RunPublic = components["schemas"]["RunPublic"];
export type Run = Omit<RunPublic, "nodes" | "error"> & {
  nodes: Record<string, RunNode>;
  error?: NodeError | null;
  /** Links the API may add (Prefect flow run, MLflow run); see links.ts. */
  links?: Record<string, string>;
};

export type LogLine = { timestamp: string; level: string; node_id: string | null; message: string };

export const FINISHED = new Set(["completed", "failed", "cancelled"]);

export function isFinished(run: Pick<Run, "status"> | null | undefined): boolean {
  return !!run && FINISHED.has(run.status);
}

export function errorText(error: RunNode["error"]): string | undefined {
  if (!error) return undefined;
  if (typeof error === "string") return error;
  return error.message ?? error.code ?? error.type;
}
