// Nodes must never hide each other: whether any two overlap (a loaded workflow is then laid out), and which
// nodes to push down when one grows (a run's status pill, a warning, a longer label).
import type { FlowNode } from "./editor";

/** A node's size before React Flow has measured it (the width is fixed by the node's CSS). */
export const UNMEASURED = { width: 176, height: 80 };
const GAP = 16;

type Box = { x: number; y: number; w: number; h: number };

function boxOf(n: FlowNode): Box {
  return {
    x: n.position.x,
    y: n.position.y,
    w: n.measured?.width ?? UNMEASURED.width,
    h: n.measured?.height ?? UNMEASURED.height,
  };
}

function overlap(a: Box, b: Box): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

export function overlapping(nodes: FlowNode[]): boolean {
  const boxes = nodes.map(boxOf);
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) if (overlap(boxes[i], boxes[j])) return true;
  }
  return false;
}

/**
 * `nodes` with those the `grown` nodes now cover pushed just below the node they overlap (each may in turn
 * push the nodes under it); nodes above a grown node never move. The same array when nothing moved.
 */
export function pushApart(nodes: FlowNode[], grown: Iterable<string>): FlowNode[] {
  const boxes = new Map(nodes.map((n) => [n.id, boxOf(n)]));
  const moved: Record<string, { x: number; y: number }> = {};
  const queue = [...grown].filter((id) => boxes.has(id));
  let budget = boxes.size * boxes.size + queue.length;
  while (queue.length && budget-- > 0) {
    const id = queue.shift()!;
    const a = boxes.get(id)!;
    for (const [otherId, b] of boxes) {
      if (otherId === id || b.y < a.y || !overlap(a, b)) continue;
      b.y = a.y + a.h + GAP;
      moved[otherId] = { x: b.x, y: b.y };
      queue.push(otherId);
    }
  }
  if (!Object.keys(moved).length) return nodes;
  return nodes.map((n) => (moved[n.id] ? { ...n, position: moved[n.id] } : n));
}
