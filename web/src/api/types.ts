// Shapes of the API answers that the OpenAPI document leaves as free-form objects
// (the catalog's JSON Schemas, validation problems, column previews, workflow definitions).
import type { components } from "./schema";

export type PortSpec = { name: string; type: string };

/** A JSON Schema property of a node's Params, with Flowza's UI hints (`advanced`, `column_of`, `role`). */
export type ParamSchema = {
  title?: string;
  description?: string;
  type?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  anyOf?: ParamSchema[];
  items?: ParamSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  advanced?: boolean;
  column_of?: string;
  /** The value is the id of an uploaded dataset (`GET /api/datasets/`). */
  dataset_ref?: boolean;
  role?: string;
  /** The value names one of the user's connections of this kind (`GET /api/connections`). */
  connection_kind?: string;
  /** Text over several lines (a query, a prompt). */
  multiline?: boolean;
  /** A multiline parameter holding code in this language (e.g. "sql"): monospace, not wrapped. */
  code?: string;
  additionalProperties?: ParamSchema | boolean;
  $ref?: string;
};

export type ParamsSchema = {
  title?: string;
  properties?: Record<string, ParamSchema>;
  required?: string[];
  $defs?: Record<string, ParamSchema>;
};

export type NodeType = {
  type: string;
  category: string;
  description: string;
  version?: number;
  inputs: PortSpec[];
  outputs: PortSpec[];
  parameters: ParamsSchema;
  /** Other names a port answers to in workflow JSON (the seed's, e.g. `train_dataset` for `train`). */
  port_aliases?: Record<string, string>;
};

/** A likely problem a node reported that did not stop it; `fix` holds parameter values that would solve it. */
export type NodeWarning = { code: string; message: string; fix?: Record<string, unknown> | null };

export type Problem = {
  code: string;
  message: string;
  node_id?: string | null;
  field?: string | null;
  severity: "error" | "warning" | string;
};

export type ValidationResult = { valid: boolean; problems: Problem[]; order: string[] };

export type ColumnInfo = { name: string; dtype: string };
/** What one input port will receive: a table's columns (seen in a sample of `rows`), or a model's task. */
export type InputPreview = { rows?: number; columns?: ColumnInfo[]; task?: "classification" | "regression" | string };
export type ColumnsResult = {
  node_id: string;
  inputs: Record<string, InputPreview>;
  problems: Problem[];
  /** Warnings the upstream nodes reported on the sample. */
  warnings?: (NodeWarning & { node_id: string })[];
};

export type WorkflowNodeJson = {
  id: string;
  type: string;
  position: { x: number; y: number };
  data: { label?: string; [key: string]: unknown };
  parameters: Record<string, unknown>;
};

export type WorkflowConnectionJson = {
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
};

export type WorkflowJson = {
  name: string;
  description?: string | null;
  nodes: WorkflowNodeJson[];
  connections: WorkflowConnectionJson[];
};

export type WorkflowPublic = components["schemas"]["WorkflowPublic"];
export type WorkflowListed = components["schemas"]["WorkflowListed"];
export type RunPublic = components["schemas"]["RunPublic"];
