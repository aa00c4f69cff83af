import { useReactFlow } from "@xyflow/react";
import { useCallback } from "react";

/** The flow position at the centre of the visible canvas, nudged so repeated adds do not stack exactly. */
export function useViewportCentre() {
  const { screenToFlowPosition } = useReactFlow();
  return useCallback(() => {
    const rect = document.querySelector(".canvas")?.getBoundingClientRect();
    const jitter = (Math.random() - 0.5) * 60;
    if (!rect) return { x: jitter, y: jitter };
    const centre = screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 });
    return { x: centre.x - 88 + jitter, y: centre.y - 40 + jitter };
  }, [screenToFlowPosition]);
}
