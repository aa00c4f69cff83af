// Left-to-right layered layout of the graph (dagre), using each node's measured size.
import { Graph, layout } from "@dagrejs/dagre";
import type { FlowEdge, FlowNode } from "../state/editor";
import { UNMEASURED } from "../state/overlaps";

export function autoLayout(nodes: FlowNode[], edges: FlowEdge[]): Record<string, { x: number; y: number }> {
  const graph = new Graph({ multigraph: true });
  graph.setGraph({ rankdir: "LR", nodesep: 28, ranksep: 48, marginx: 20, marginy: 20 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) {
    graph.setNode(node.id, {
      width: node.measured?.width ?? UNMEASURED.width,
      height: node.measured?.height ?? UNMEASURED.height,
    });
  }
  for (const edge of edges) graph.setEdge(edge.source, edge.target, {}, edge.id);
  layout(graph);
  const positions: Record<string, { x: number; y: number }> = {};
  for (const node of nodes) {
    const placed = graph.node(node.id);
    // dagre gives centres; React Flow wants top-left corners.
    positions[node.id] = { x: Math.round(placed.x - placed.width / 2), y: Math.round(placed.y - placed.height / 2) };
  }
  return positions;
}
