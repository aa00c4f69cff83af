// The selected node's identity: category icon, editable label, type and description.
import { categoryLook } from "../canvas/categories";
import { useEditor } from "../state/editor";
import { Icon } from "../ui/Icon";

export function NodeHeader({ nodeId }: { nodeId: string }) {
  const node = useEditor((s) => s.nodes.find((n) => n.id === nodeId));
  const entry = useEditor((s) => (node ? s.catalog[node.data.type] : undefined));
  const setLabel = useEditor((s) => s.setLabel);
  if (!node) return null;
  const look = categoryLook(entry?.category ?? "");
  return (
    <header className="node-header">
      <div className="node-header-row">
        <span className="node-header-icon" style={{ background: look.colour }}>
          <Icon name={look.icon} size={16} />
        </span>
        <input
          className="node-label-input"
          aria-label="Node label"
          value={node.data.label}
          onChange={(e) => setLabel(nodeId, e.target.value)}
        />
      </div>
      <div className="node-header-meta">
        <code title="Node type">{node.data.type}</code>
        <span className="muted" title="Node id">
          id <code>{node.id}</code>
        </span>
      </div>
      {entry?.description && <p className="node-header-desc">{entry.description}</p>}
      {!entry && <p className="field-error">This node type is not in the catalog.</p>}
    </header>
  );
}
