// One node type in the palette: drag it onto the canvas, or double-click / Enter to add it in the middle.
import { memo, type DragEvent } from "react";
import type { NodeType } from "../api/types";
import { Icon } from "../ui/Icon";
import { categoryLook, portColour, typeTitle } from "./categories";

export const PALETTE_MIME = "application/x-flowza-node";

function PaletteItemView({ entry, onAdd }: { entry: NodeType; onAdd: (type: string) => void }) {
  const look = categoryLook(entry.category);
  const onDragStart = (event: DragEvent) => {
    event.dataTransfer.setData(PALETTE_MIME, entry.type);
    event.dataTransfer.setData("text/plain", entry.type);
    event.dataTransfer.effectAllowed = "move";
  };
  return (
    <li
      className="palette-item"
      data-testid={`palette-${entry.type}`}
      draggable
      tabIndex={0}
      role="button"
      aria-label={`Add ${typeTitle(entry.type)}`}
      aria-description={entry.description}
      title={`${entry.description}\n\nDrag onto the canvas, or double-click to add.`}
      onDragStart={onDragStart}
      onDoubleClick={() => onAdd(entry.type)}
      onKeyDown={(e) => e.key === "Enter" && onAdd(entry.type)}
    >
      <span className="palette-icon" style={{ color: look.colour, background: `${look.colour}1a` }}>
        <Icon name={look.icon} size={14} />
      </span>
      <span className="palette-text">
        <span className="palette-name-row">
          <span className="palette-name">{typeTitle(entry.type)}</span>
          <PortDots entry={entry} />
        </span>
        <span className="palette-desc">{entry.description}</span>
      </span>
      <Icon name="grip" className="palette-grip" />
    </li>
  );
}

/** The node's ports as dots in their type's colour: inputs, then outputs. */
function PortDots({ entry }: { entry: NodeType }) {
  if (!entry.inputs.length && !entry.outputs.length) return null;
  const list = (ports: NodeType["inputs"]) => ports.map((p) => `${p.name} (${p.type})`).join(", ") || "none";
  const dots = (ports: NodeType["inputs"]) =>
    ports.map((p) => <span key={p.name} className="palette-port" data-porttype={p.type} style={{ background: portColour(p.type) }} />);
  return (
    <span className="palette-ports" title={`In: ${list(entry.inputs)}\nOut: ${list(entry.outputs)}`} aria-hidden="true">
      {dots(entry.inputs)}
      <span className="palette-port-arrow">›</span>
      {dots(entry.outputs)}
    </span>
  );
}

export const PaletteItem = memo(PaletteItemView);
