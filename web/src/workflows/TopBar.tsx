// The top bar: logo, workflow name and save state, file actions, run controls, templates, describe-your-pipeline,
// export, models, deployments, connections.
import { useRef } from "react";
import { ShortcutsDialog } from "../canvas/ShortcutsDialog";
import { RunControls } from "../runs/RunControls";
import { useDialogs } from "../state/dialogs";
import { useEditor } from "../state/editor";
import { Icon } from "../ui/Icon";
import { DescribeDialog } from "./DescribeDialog";
import { ExportMenu } from "./ExportMenu";
import { HistoryDialog } from "./HistoryDialog";
import { OpenDialog } from "./OpenDialog";
import { TemplatesDialog } from "./TemplatesDialog";
import { importWorkflowFile, newWorkflow, saveWorkflow } from "./workflowActions";
import "./topbar.css";

export function TopBar({ onOpenModels, onOpenDeployments, onOpenConnections }: {
  onOpenModels: () => void;
  onOpenDeployments: () => void;
  onOpenConnections: () => void;
}) {
  const name = useEditor((s) => s.name);
  const setName = useEditor((s) => s.setName);
  const dirty = useEditor((s) => s.dirty);
  const workflowId = useEditor((s) => s.workflowId);
  const version = useEditor((s) => s.version);
  const errorCount = useEditor((s) => s.problems.filter((p) => p.severity !== "warning").length);
  const dialog = useDialogs((s) => s.open);
  const show = useDialogs((s) => s.show);
  const close = useDialogs((s) => s.close);
  const importInput = useRef<HTMLInputElement>(null);

  return (
    <header className="topbar">
      <div className="brand" aria-label="Flowza">
        <svg width="24" height="24" viewBox="0 0 32 32" aria-hidden="true">
          <rect width="32" height="32" rx="8" fill="var(--accent)" />
          <path d="M9 9h13M9 16h9M9 9v14" stroke="#fff" strokeWidth="3.2" strokeLinecap="round" />
        </svg>
        <span className="brand-name">Flowza</span>
      </div>
      <div className="title-block">
        <input
          className="workflow-name"
          aria-label="Workflow name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          spellCheck={false}
          size={Math.min(Math.max(name.length, 12), 36)}
        />
        <span className={`save-state ${dirty ? "dirty" : ""}`} data-testid="save-state">
          {dirty ? "Unsaved changes" : workflowId ? `Saved · v${version}` : "Not saved"}
        </span>
        {errorCount > 0 && (
          <span className="problem-count" title="Problems: see the inspector" data-testid="problem-count">
            <Icon name="alert" size={13} /> {errorCount}
          </span>
        )}
      </div>

      <nav className="actions" aria-label="Workflow">
        <button type="button" className="btn btn-ghost" onClick={newWorkflow}>
          <Icon name="plus" /> New
        </button>
        <button type="button" className="btn btn-ghost" onClick={() => show("open")}>
          <Icon name="folder" /> Open
        </button>
        <button type="button" className="btn btn-ghost" disabled={!workflowId} onClick={() => show("history")} title="History">
          <Icon name="history" /> <span className="collapsible-label">History</span>
        </button>
        <span className="bar-sep" />
        <button type="button" className="btn btn-ghost" onClick={() => show("templates")} title="Templates">
          <Icon name="template" /> <span className="collapsible-label">Templates</span>
        </button>
        <button type="button" className="btn btn-ghost" onClick={() => show("describe")}
          title="Describe your pipeline: a sentence becomes a workflow" aria-label="Describe your pipeline">
          <Icon name="sparkles" /> <span className="collapsible-label">Describe</span>
        </button>
        <button type="button" className="btn btn-ghost" onClick={() => importInput.current?.click()} title="Import a workflow JSON">
          <Icon name="upload" /> <span className="collapsible-label">Import</span>
        </button>
        <input
          ref={importInput}
          type="file"
          accept=".json,application/json"
          aria-label="Import workflow JSON"
          className="visually-hidden"
          tabIndex={-1}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void importWorkflowFile(file);
            e.target.value = "";
          }}
        />
        <ExportMenu />
        <button type="button" className="btn btn-ghost" onClick={onOpenModels}>
          <Icon name="models" /> Models
        </button>
        <button type="button" className="btn btn-ghost" onClick={onOpenDeployments}>
          <Icon name="box" /> Deployments
        </button>
        <button type="button" className="btn btn-ghost" onClick={onOpenConnections} title="Connections: databases, buckets and APIs">
          <Icon name="link" /> <span className="collapsible-label">Connections</span>
        </button>
        <span className="bar-sep" />
        <button type="button" className="btn" onClick={() => void saveWorkflow()} title="Save (Ctrl+S)">
          <Icon name="save" /> Save
        </button>
        <div className="run-slot">
          <RunControls />
        </div>
      </nav>

      {dialog === "open" && <OpenDialog onClose={close} />}
      {dialog === "templates" && <TemplatesDialog onClose={close} />}
      {dialog === "history" && <HistoryDialog onClose={close} />}
      {dialog === "shortcuts" && <ShortcutsDialog onClose={close} />}
      {dialog === "describe" && <DescribeDialog onClose={close} />}
    </header>
  );
}
