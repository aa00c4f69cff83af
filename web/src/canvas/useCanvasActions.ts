// Canvas actions shared by the toolbar and the keyboard shortcuts.
import { useReactFlow } from "@xyflow/react";
import { useCallback } from "react";
import { useEditor } from "../state/editor";
import { autoLayout } from "./autoLayout";

export function useCanvasActions() {
  const { fitView } = useReactFlow();
  const fit = useCallback(() => void fitView({ padding: 0.2, maxZoom: 1.1, duration: 250 }), [fitView]);
  /** Lay the graph out left to right; `undoable` false for the automatic layout of a freshly loaded workflow. */
  const layout = useCallback(
    (undoable = true) => {
      const { nodes, edges, setPositions } = useEditor.getState();
      if (!nodes.length) return;
      const positions = autoLayout(nodes, edges);
      if (undoable) {
        setPositions(positions);
        requestAnimationFrame(fit);
      } else {
        useEditor.setState({ nodes: nodes.map((n) => (positions[n.id] ? { ...n, position: positions[n.id] } : n)) });
      }
    },
    [fit],
  );
  return { fit, layout };
}
