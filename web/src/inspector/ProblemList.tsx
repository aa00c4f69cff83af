// A list of validation problems; clicking one that belongs to a node selects that node.
import type { Problem } from "../api/types";
import { useEditor } from "../state/editor";
import { Icon } from "../ui/Icon";

export function ProblemList({ problems, showNode }: { problems: Problem[]; showNode?: boolean }) {
  const select = useEditor((s) => s.select);
  const labels = useEditor((s) => s.nodes);
  const labelOf = (id: string) => labels.find((n) => n.id === id)?.data.label ?? id;
  return (
    <ul className="problem-list" aria-label="Problems">
      {problems.map((p, i) => (
        <li key={`${p.code}-${p.node_id}-${p.field}-${i}`} className={`problem ${p.severity === "warning" ? "warning" : ""}`}>
          <Icon name="alert" size={14} className="problem-icon" />
          <span className="problem-text">
            {showNode && p.node_id && (
              <button type="button" className="problem-node" onClick={() => select(p.node_id!)}>
                {labelOf(p.node_id)}
              </button>
            )}
            {p.field && <code className="problem-field">{p.field}</code>}
            {p.message}
          </span>
        </li>
      ))}
    </ul>
  );
}
