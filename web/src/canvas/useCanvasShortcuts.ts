// Keyboard shortcuts of the editor (listed in the shortcuts help).
import { useEffect } from "react";
import { useDialogs } from "../state/dialogs";
import { useEditor } from "../state/editor";
import { saveWorkflow } from "../workflows/workflowActions";
import { useCanvasActions } from "./useCanvasActions";

export const SHORTCUTS: { keys: string[]; action: string }[] = [
  { keys: ["Delete"], action: "Delete the selected nodes and connections (or Backspace)" },
  { keys: ["Ctrl", "D"], action: "Duplicate the selected nodes" },
  { keys: ["Ctrl", "Z"], action: "Undo" },
  { keys: ["Ctrl", "Shift", "Z"], action: "Redo (or Ctrl+Y)" },
  { keys: ["Ctrl", "S"], action: "Save the workflow" },
  { keys: ["Ctrl", "Shift", "L"], action: "Auto-layout, left to right" },
  { keys: ["F"], action: "Zoom to fit" },
  { keys: ["Esc"], action: "Clear the selection" },
  { keys: ["Shift", "Drag"], action: "Select an area" },
  { keys: ["Ctrl", "Click"], action: "Add a node to the selection" },
  { keys: ["?"], action: "Show these shortcuts" },
];

function typingInto(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
}

export function useCanvasShortcuts() {
  const { fit, layout } = useCanvasActions();
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      const editor = useEditor.getState();
      if (mod && key === "s") {
        event.preventDefault();
        void saveWorkflow();
        return;
      }
      if (typingInto(event.target) || useDialogs.getState().open || document.querySelector(".overlay-page")) return;
      if (key === "delete" || key === "backspace") {
        event.preventDefault();
        editor.deleteSelected();
      } else if (mod && key === "d") {
        event.preventDefault();
        editor.duplicateSelected();
      } else if (mod && ((key === "z" && event.shiftKey) || key === "y")) {
        event.preventDefault();
        editor.redo();
      } else if (mod && key === "z") {
        event.preventDefault();
        editor.undo();
      } else if (mod && event.shiftKey && key === "l") {
        event.preventDefault();
        layout(true);
      } else if (!mod && !event.altKey && key === "f") {
        fit();
      } else if (event.key === "Escape" && editor.selectedNodeId) {
        editor.select(null);
      } else if (event.key === "?") {
        useDialogs.getState().show("shortcuts");
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [fit, layout]);
}
