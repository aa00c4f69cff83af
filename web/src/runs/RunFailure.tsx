// Why a failed run failed, in one line: the node and its message; a click selects that node on the canvas.
import { useFocusNode } from "../canvas/useFocusNode";
import { useEditor } from "../state/editor";
import { Icon } from "../ui/Icon";
import { runFailure, type Run } from "./runTypes";

export function RunFailure({ run, onPick }: { run: Run; onPick?: () => void }) {
  const failure = runFailure(run);
  const nodeId = failure?.nodeId ?? null;
  const label = useEditor((s) => (nodeId ? s.nodes.find((n) => n.id === nodeId)?.data.label : undefined));
  const focus = useFocusNode();
  if (!failure) return null;
  const where = nodeId ? (label ?? run.nodes[nodeId]?.label ?? nodeId) : null;
  const text = `${where ? `${where}: ` : ""}${failure.message}`;
  const title = `${text}${failure.code ? ` (${failure.code})` : ""}${nodeId ? "\nClick to select the node." : ""}`;
  const body = (
    <>
      <Icon name="alert" size={13} />
      <span className="run-failure-text">{text}</span>
    </>
  );
  if (!nodeId) {
    return (
      <span className="run-failure" title={title} data-testid="run-failure">
        {body}
      </span>
    );
  }
  return (
    <button
      type="button"
      className="run-failure"
      title={title}
      data-testid="run-failure"
      data-node-id={nodeId}
      onClick={(event) => {
        event.stopPropagation();
        onPick?.();
        focus(nodeId, "results");
      }}
    >
      {body}
    </button>
  );
}
