// The columns each input of a node will have, computed by the API on a sample before running.
import { useEffect, useState } from "react";
import { api, errorMessage, unwrap } from "../api/client";
import type { ColumnsResult } from "../api/types";
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
        if (!cancelled) setState({ loading: false, result, error: null });
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
