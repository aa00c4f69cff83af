// The right column: the selected node (Parameters / Results tabs) or, with nothing selected, the workflow.
import { ResultsPanel } from "../results/ResultsPanel";
import { useEditor } from "../state/editor";
import { CollapsePanelButton } from "../ui/SidePanelToggle";
import { NodeHeader } from "./NodeHeader";
import { ParameterForm } from "./ParameterForm";
import { WorkflowSummary } from "./WorkflowSummary";
import "./inspector.css";

export function Inspector() {
  const selectedId = useEditor((s) => s.selectedNodeId);
  const exists = useEditor((s) => (s.selectedNodeId ? s.nodes.some((n) => n.id === s.selectedNodeId) : false));
  const tab = useEditor((s) => s.inspectorTab);
  const setTab = useEditor((s) => s.setInspectorTab);

  if (!selectedId || !exists) {
    return (
      <aside className="inspector" aria-label="Inspector">
        <CollapsePanelButton panel="inspector" />
        <WorkflowSummary />
      </aside>
    );
  }
  return (
    <aside className="inspector" aria-label="Inspector">
      <CollapsePanelButton panel="inspector" />
      <NodeHeader nodeId={selectedId} />
      <div className="tabs" role="tablist" aria-label="Node details">
        <button type="button" role="tab" aria-selected={tab === "parameters"} className="tab" onClick={() => setTab("parameters")}>
          Parameters
        </button>
        <button type="button" role="tab" aria-selected={tab === "results"} className="tab" onClick={() => setTab("results")}>
          Results
        </button>
      </div>
      <div className="inspector-body" role="tabpanel">
        {tab === "parameters" ? <ParameterForm key={selectedId} nodeId={selectedId} /> : <ResultsPanel nodeId={selectedId} />}
      </div>
    </aside>
  );
}
