// Labels two or more nodes share: those nodes show their ids too, so they can be told apart.
import type { FlowNode } from "../state/editor";

let cached: { nodes: FlowNode[]; shared: Set<string> } | null = null;

const key = (label: string) => label.trim().toLowerCase();

/** True when another node of `nodes` has the label `label` (computed once per version of the node list). */
export function sharesLabel(nodes: FlowNode[], label: string): boolean {
  if (cached?.nodes !== nodes) {
    const seen = new Set<string>();
    const shared = new Set<string>();
    for (const n of nodes) {
      const k = key(n.data.label);
      if (seen.has(k)) shared.add(k);
      seen.add(k);
    }
    cached = { nodes, shared };
  }
  return cached.shared.has(key(label));
}
