// The ports a connection of a loaded workflow joins: aliases (the seed's `train_dataset`, …) become the
// catalog's port names, so React Flow finds the handles and draws the edge; missing names are inferred.
import type { NodeType, WorkflowConnectionJson } from "../api/types";

type Handles = { sourceHandle: string | null; targetHandle: string | null };

/** `name` as one of `ports` (itself, or the port it is an alias of); unchanged when it is neither. */
function canonical(name: string | null, entry: NodeType | undefined, ports: "inputs" | "outputs"): string | null {
  if (!name || !entry || entry[ports].some((p) => p.name === name)) return name;
  const target = entry.port_aliases?.[name];
  return target && entry[ports].some((p) => p.name === target) ? target : name;
}

/** A connection's handles, with aliases resolved and, when written without them, the only port that fits. */
export function resolveHandles(
  c: WorkflowConnectionJson,
  typeOf: (nodeId: string) => NodeType | undefined,
): Handles {
  const source = typeOf(c.source);
  const target = typeOf(c.target);
  let sourceHandle = canonical(c.sourceHandle ?? null, source, "outputs");
  let targetHandle = canonical(c.targetHandle ?? null, target, "inputs");
  if (!sourceHandle && source?.outputs.length === 1) sourceHandle = source.outputs[0].name;
  if (!targetHandle && target?.inputs.length === 1) targetHandle = target.inputs[0].name;
  if (!sourceHandle && targetHandle && source && target) {
    const want = target.inputs.find((p) => p.name === targetHandle)?.type;
    const fits = source.outputs.filter((p) => p.type === want);
    if (fits.length === 1) sourceHandle = fits[0].name;
  }
  if (!targetHandle && sourceHandle && source && target) {
    const have = source.outputs.find((p) => p.name === sourceHandle)?.type;
    const fits = target.inputs.filter((p) => p.type === have);
    if (fits.length === 1) targetHandle = fits[0].name;
  }
  return { sourceHandle, targetHandle };
}
