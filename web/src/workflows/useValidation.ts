// Validate the workflow on the server ~400 ms after each edit; problems land on the nodes and fields.
import { useEffect } from "react";
import { api, unwrap } from "../api/client";
import type { ValidationResult } from "../api/types";
import { useEditor } from "../state/editor";

const DEBOUNCE_MS = 400;

export function useValidation() {
  const revision = useEditor((s) => s.revision);
  const catalogReady = useEditor((s) => Object.keys(s.catalog).length > 0);
  useEffect(() => {
    const editor = useEditor.getState();
    if (!catalogReady) return;
    if (editor.nodes.length === 0) {
      editor.setProblems([]);
      return;
    }
    let cancelled = false;
    const timer = setTimeout(async () => {
      try {
        const body = useEditor.getState().toWorkflowJson();
        const result = unwrap(await api.POST("/api/workflows/validate", { body: body as never })) as unknown as ValidationResult;
        if (!cancelled) useEditor.getState().setProblems(result.problems ?? []);
      } catch {
        // A failed validation call leaves the last problems in place; the next edit tries again.
      }
    }, DEBOUNCE_MS);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [revision, catalogReady]);
}
