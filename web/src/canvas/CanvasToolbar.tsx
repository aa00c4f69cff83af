// The floating toolbar at the top left of the canvas: undo/redo, auto-layout, zoom to fit, shortcuts.
import { Panel } from "@xyflow/react";
import { useDialogs } from "../state/dialogs";
import { useEditor } from "../state/editor";
import { Icon, type IconName } from "../ui/Icon";
import { useCanvasActions } from "./useCanvasActions";

export function CanvasToolbar() {
  const canUndo = useEditor((s) => s.past.length > 0);
  const canRedo = useEditor((s) => s.future.length > 0);
  const hasNodes = useEditor((s) => s.nodes.length > 0);
  const { fit, layout } = useCanvasActions();
  const editor = useEditor.getState;
  return (
    <Panel position="top-left" className="canvas-toolbar" aria-label="Canvas tools">
      <ToolButton icon="undo" label="Undo" hint="Ctrl+Z" disabled={!canUndo} onClick={() => editor().undo()} />
      <ToolButton icon="redo" label="Redo" hint="Ctrl+Shift+Z" disabled={!canRedo} onClick={() => editor().redo()} />
      <span className="toolbar-sep" />
      <ToolButton icon="layout" label="Auto layout" hint="Ctrl+Shift+L" disabled={!hasNodes} onClick={() => layout()} text />
      <ToolButton icon="fit" label="Zoom to fit" hint="F" disabled={!hasNodes} onClick={fit} />
      <span className="toolbar-sep" />
      <ToolButton icon="keyboard" label="Keyboard shortcuts" hint="?" onClick={() => useDialogs.getState().show("shortcuts")} />
    </Panel>
  );
}

function ToolButton({
  icon,
  label,
  hint,
  onClick,
  disabled,
  text,
}: {
  icon: IconName;
  label: string;
  hint: string;
  onClick: () => void;
  disabled?: boolean;
  text?: boolean;
}) {
  return (
    <button
      type="button"
      className={text ? "tool-btn with-text" : "tool-btn"}
      aria-label={label}
      title={`${label} (${hint})`}
      disabled={disabled}
      onClick={onClick}
    >
      <Icon name={icon} />
      {text && <span>{label}</span>}
    </button>
  );
}
