// Which connections the canvas accepts: matching port types, one edge per input, no cycles.
import type { Connection, Edge } from "@xyflow/react";
import type { NodeType } from "../api/types";
import type { FlowEdge, FlowNode } from "../state/editor";

export function connectionProblem(
  connection: Connection | Edge,
  nodes: FlowNode[],
  edges: FlowEdge[],
  catalog: Record<string, NodeType>,
): string | null {
  const { source, target, sourceHandle, targetHandle } = connection;
  if (source === target) return "a node cannot feed itself";
  const sourceNode = nodes.find((n) => n.id === source);
  const targetNode = nodes.find((n) => n.id === target);
  if (!sourceNode || !targetNode) return "unknown node";
  const output = catalog[sourceNode.data.type]?.outputs.find((p) => p.name === sourceHandle);
  const input = catalog[targetNode.data.type]?.inputs.find((p) => p.name === targetHandle);
  if (!output || !input) return "unknown port";
  if (output.type.toLowerCase() !== input.type.toLowerCase()) {
    return `${output.name} gives a ${output.type}, ${input.name} needs a ${input.type}`;
  }
  if (edges.some((e) => e.target === target && e.targetHandle === targetHandle)) {
    return `input ${input.name} is already connected`;
  }
  if (reaches(target, source, edges)) return "this connection would make a cycle";
  return null;
}

function reaches(from: string, to: string, edges: FlowEdge[]): boolean {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(next.get(id) ?? []));
  }
  return false;
}
