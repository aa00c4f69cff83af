// The selected node's warnings (from the shown run, the sample preview or the upload), each with a one-click
// fix when the node said which parameter values would solve it; applying it is an ordinary, undoable edit.
import { useMemo } from "react";
import { useEditor } from "../state/editor";
import type { NodeWarning } from "../api/types";
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
        <WarningItem key={`${w.code}|${w.message}`} warning={w} onApply={(fix) => updateParameters(nodeId, fix)} />
      ))}
    </ul>
  );
}

/** One warning, and its one-click fix when it has one. */
export function WarningItem({ warning, onApply, disabled = false }: {
  warning: NodeWarning;
  onApply: (fix: Record<string, unknown>) => void;
  disabled?: boolean;
}) {
  const fix = warning.fix && Object.keys(warning.fix).length > 0 ? warning.fix : undefined;
  return (
    <li className="problem warning">
      <Icon name="alert" size={14} className="problem-icon" />
      <span className="problem-text">
        {warningText(warning)}
        {fix && (
          <span className="warning-fix">
            <button type="button" className="btn btn-sm" title={`Set ${fixText(fix)}`} disabled={disabled}
              onClick={() => onApply(fix)}>
              Apply fix
            </button>
            <code>{fixText(fix)}</code>
          </span>
        )}
      </span>
    </li>
  );
}
