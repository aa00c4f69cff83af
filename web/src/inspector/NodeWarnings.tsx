// The selected node's warnings (from the shown run, the sample preview or the upload), each with a one-click
// fix when the node said which parameter values would solve it; applying it is an ordinary, undoable edit.
import { useMemo } from "react";
import { useEditor } from "../state/editor";
import { fixText, openWarnings, warningText } from "../state/warnings";
import { Icon } from "../ui/Icon";

const NO_PARAMETERS: Record<string, unknown> = {};

export function NodeWarnings({ nodeId }: { nodeId: string }) {
  const run = useEditor((s) => s.runStatus[nodeId]?.warnings);
  const sampled = useEditor((s) => s.sampleWarnings[nodeId]);
  const parameters = useEditor((s) => s.nodes.find((n) => n.id === nodeId)?.data.parameters ?? NO_PARAMETERS);
  const updateParameters = useEditor((s) => s.updateParameters);
  const warnings = useMemo(() => openWarnings([run, sampled], parameters), [run, sampled, parameters]);
  if (!warnings.length) return null;
  return (
    <ul className="problem-list" aria-label="Warnings" data-testid="node-warnings">
      {warnings.map((w) => (
        <li key={`${w.code}|${w.message}`} className="problem warning">
          <Icon name="alert" size={14} className="problem-icon" />
          <span className="problem-text">
            {warningText(w)}
            {w.fix && Object.keys(w.fix).length > 0 && (
              <span className="warning-fix">
                <button
                  type="button"
                  className="btn btn-sm"
                  title={`Set ${fixText(w.fix)}`}
                  onClick={() => updateParameters(nodeId, w.fix!)}
                >
                  Apply fix
                </button>
                <code>{fixText(w.fix)}</code>
              </span>
            )}
          </span>
        </li>
      ))}
    </ul>
  );
}
