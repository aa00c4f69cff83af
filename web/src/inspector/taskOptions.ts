// Choices that depend on the task of the model a node receives (evaluate's metrics): the columns preview
// reports the task of each model input, and only the choices of that task are offered.
import type { ColumnsResult, ParamSchema } from "../api/types";

export type TaskOptions = Record<string, string[]>;

/** The choices of each task for this field, from the schema's `task_options` hint (declared by the node). */
export function taskOptionsOf(schema: ParamSchema): TaskOptions | undefined {
  return (schema as { task_options?: TaskOptions }).task_options
    ?? (schema.items as { task_options?: TaskOptions } | undefined)?.task_options;
}

/** The task of the model the node receives, once the preview has trained it on the sample. */
export function modelTask(result: ColumnsResult | null): string | undefined {
  return Object.values(result?.inputs ?? {}).find((input) => input.task)?.task;
}
