// Canvas actions shared by the toolbar, the keyboard shortcuts and the canvas itself.
import { useReactFlow, useStoreApi } from "@xyflow/react";
import { useCallback } from "react";
import { useEditor } from "../state/editor";
import { autoLayout } from "./autoLayout";

/** Node titles are 13 px: below this zoom (11 / 13, rounded up) they would be under 11 px on screen. */
export const READABLE_ZOOM = 0.86;
const MAX_FIT_ZOOM = 1.1;
/** Room kept around a fitted graph: the toolbar sits at the top left, the zoom controls at the bottom left. */
const MARGIN = { top: 60, right: 28, bottom: 28, left: 28 };

export function useCanvasActions() {
  const { getNodesBounds, setViewport } = useReactFlow();
  const store = useStoreApi();

  /**
   * The graph as large as fits (up to 110 %), but not smaller than `floor`: a graph too big for the canvas
   * at that zoom is shown from its top-left corner, and the user pans to see the rest.
   */
  const fitWithin = useCallback(
    (floor: number, duration: number) => {
      const { nodes } = useEditor.getState();
      const { width, height, minZoom } = store.getState();
      if (!nodes.length || !width || !height) return;
      const bounds = getNodesBounds(nodes);
      const room = { w: width - MARGIN.left - MARGIN.right, h: height - MARGIN.top - MARGIN.bottom };
      const fits = Math.min(room.w / bounds.width, room.h / bounds.height, MAX_FIT_ZOOM);
      const zoom = Math.max(fits, floor, minZoom);
      const place = (size: number, space: number, start: number, before: number) =>
        size * zoom <= space ? before + (space - size * zoom) / 2 - start * zoom : before - start * zoom;
      void setViewport(
        {
          x: place(bounds.width, room.w, bounds.x, MARGIN.left),
          y: place(bounds.height, room.h, bounds.y, MARGIN.top),
          zoom,
        },
        { duration },
      );
    },
    [getNodesBounds, setViewport, store],
  );

  /** Everything in view, however small (the toolbar's "Zoom to fit"). */
  const fit = useCallback(() => fitWithin(0, 250), [fitWithin]);
  /** As much as fits with titles still readable: how a workflow opens, and where auto-layout leaves it. */
  const fitReadable = useCallback((duration = 0) => fitWithin(READABLE_ZOOM, duration), [fitWithin]);

  /** Lay the graph out left to right; `undoable` false for the automatic layout of a freshly loaded workflow. */
  const layout = useCallback(
    (undoable = true) => {
      const { nodes, edges, setPositions } = useEditor.getState();
      if (!nodes.length) return;
      const positions = autoLayout(nodes, edges);
      if (undoable) {
        setPositions(positions);
        requestAnimationFrame(() => fitReadable(250));
      } else {
        useEditor.setState({ nodes: nodes.map((n) => (positions[n.id] ? { ...n, position: positions[n.id] } : n)) });
      }
    },
    [fitReadable],
  );
  return { fit, fitReadable, layout };
}
