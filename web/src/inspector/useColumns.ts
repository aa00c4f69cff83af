// The columns each input of a node will have, computed by the API on a sample before running; the warnings
// the upstream nodes reported on that sample go onto those nodes.
import { useEffect, useState } from "react";
import { api, errorMessage, unwrap } from "../api/client";
import type { ColumnsResult, WorkflowJson } from "../api/types";
import { useEditor } from "../state/editor";

export type ColumnsState = { loading: boolean; result: ColumnsResult | null; error: string | null };

export function useColumns(nodeId: string, enabled: boolean): ColumnsState {
  const revision = useEditor((s) => s.revision);
  const [state, setState] = useState<ColumnsState>({ loading: enabled, result: null, error: null });

  useEffect(() => {
    if (!enabled) return;
    let cancelled = false;
    setState((s) => ({ ...s, loading: true }));
    const timer = setTimeout(async () => {
      try {
        const workflow = useEditor.getState().toWorkflowJson();
        const result = unwrap(
          await api.POST("/api/workflows/columns", { body: { workflow: workflow as never, node_id: nodeId } }),
        ) as unknown as ColumnsResult;
        if (cancelled) return;
        setState({ loading: false, result, error: null });
        // A problem upstream stops the sample early: the nodes after it were not heard from, keep what they said.
        const warnings = result.warnings ?? [];
        const heard = result.problems.length ? [...new Set(warnings.map((w) => w.node_id))] : upstreamOf(workflow, nodeId);
        useEditor.getState().setSampleWarnings(heard, warnings);
      } catch (error) {
        if (!cancelled) setState({ loading: false, result: null, error: errorMessage(error) });
      }
    }, 350);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [nodeId, enabled, revision]);

  return state;
}

/** The nodes whose outputs reach `nodeId`. */
function upstreamOf(workflow: WorkflowJson, nodeId: string): string[] {
  const seen = new Set<string>();
  const stack = [nodeId];
  while (stack.length) {
    const target = stack.pop();
    for (const c of workflow.connections) {
      if (c.target === target && !seen.has(c.source)) {
        seen.add(c.source);
        stack.push(c.source);
      }
    }
  }
  seen.delete(nodeId);
  return [...seen];
}
