// The undo history's snapshots, and how one comes back.
import type { EditorState, FlowEdge, FlowNode } from "./editor";
import { pushApart } from "./overlaps";

export type Snapshot = { nodes: FlowNode[]; edges: FlowEdge[] };

/**
 * A snapshot's graph with today's selection (undo takes edits back, not clicks) and today's sizes: a node
 * that grew since (a run's pill) pushes apart the nodes it would cover at the snapshot's positions.
 */
export function restore(snapshot: Snapshot, now: EditorState): Pick<EditorState, "nodes" | "edges" | "selectedNodeId"> {
  const current = new Map(now.nodes.map((n) => [n.id, n]));
  const grown: string[] = [];
  let nodes = snapshot.nodes.map((n) => {
    const today = current.get(n.id);
    const selected = !!today?.selected;
    const measured = today?.measured ?? n.measured;
    if ((measured?.height ?? 0) > (n.measured?.height ?? Infinity) + 0.5) grown.push(n.id);
    return !!n.selected === selected && measured === n.measured ? n : { ...n, selected, measured };
  });
  if (grown.length) nodes = pushApart(nodes, grown);
  const selectedNodeId = now.selectedNodeId && nodes.some((n) => n.id === now.selectedNodeId) ? now.selectedNodeId : null;
  return { nodes, edges: snapshot.edges, selectedNodeId };
}
