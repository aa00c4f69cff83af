// Point at a node from elsewhere (a failed run, a log line): select it and bring it into view, readable.
import { useReactFlow } from "@xyflow/react";
import { useCallback } from "react";
import { useEditor, type InspectorTab } from "../state/editor";
import { READABLE_ZOOM } from "./useCanvasActions";

export function useFocusNode() {
  const { getInternalNode, getZoom, setCenter } = useReactFlow();
  return useCallback(
    (nodeId: string, tab?: InspectorTab) => {
      const editor = useEditor.getState();
      if (!editor.nodes.some((n) => n.id === nodeId)) return;
      editor.select(nodeId);
      if (tab) editor.setInspectorTab(tab);
      const node = getInternalNode(nodeId);
      if (!node) return;
      const { x, y } = node.internals.positionAbsolute;
      const w = node.measured.width ?? 0;
      const h = node.measured.height ?? 0;
      void setCenter(x + w / 2, y + h / 2, { zoom: Math.max(getZoom(), READABLE_ZOOM), duration: 250 });
    },
    [getInternalNode, getZoom, setCenter],
  );
}
