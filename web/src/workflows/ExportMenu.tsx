// The top bar's Export menu: the saved workflow as a Python script, a notebook or JSON. A workflow never
// saved can only be downloaded as JSON (as drawn); the code exports need its saved version.
import { useId, useState } from "react";
import { useEditor } from "../state/editor";
import { Icon, type IconName } from "../ui/Icon";
import { useMenu } from "../ui/useMenu";
import { EXPORT_FORMATS, exportSavedWorkflow, type ExportFormat } from "./exportCode";
import { exportWorkflow } from "./workflowActions";

const ICONS: Record<ExportFormat, IconName> = { py: "code", ipynb: "notebook", json: "file" };

export function ExportMenu() {
  const { open, setOpen, box } = useMenu();
  const [busy, setBusy] = useState(false);
  const saved = useEditor((s) => s.workflowId !== null);
  const dirty = useEditor((s) => s.dirty);
  const hintId = useId();

  const choose = (format: ExportFormat) => {
    setOpen(false);
    if (!saved) {
      exportWorkflow(); // only JSON is offered before the first save: the canvas as drawn
      return;
    }
    setBusy(true);
    void exportSavedWorkflow(format).finally(() => setBusy(false));
  };

  return (
    <div className="menu-anchor" ref={box}>
      <button
        type="button"
        className="btn btn-ghost"
        aria-label="Export"
        aria-haspopup="menu"
        aria-expanded={open}
        disabled={busy}
        title={saved ? "Export as a Python script, a notebook or JSON" : "Export (save the workflow first for code)"}
        onClick={() => setOpen(!open)}
      >
        {busy ? <span className="spinner" /> : <Icon name="download" />} <span className="collapsible-label">Export</span>
        <Icon name="chevronDown" size={12} />
      </button>
      {open && (
        <div className="menu" role="menu" aria-label="Export formats">
          {!saved && (
            <p className="menu-note" id={hintId}>
              Save the workflow first: the script and notebook are made from its saved version.
            </p>
          )}
          {saved && dirty && (
            <p className="menu-note" id={hintId}>
              Your changes are saved first, as a new version.
            </p>
          )}
          {EXPORT_FORMATS.map(({ format, title, hint }) => {
            const needsSave = !saved && format !== "json";
            return (
              <button
                key={format}
                type="button"
                role="menuitem"
                className="menu-item"
                aria-label={title}
                aria-describedby={needsSave || (saved && dirty) ? hintId : undefined}
                disabled={needsSave}
                title={needsSave ? "Save the workflow first" : undefined}
                onClick={() => choose(format)}
              >
                <Icon name={ICONS[format]} />
                <span className="menu-item-text">
                  <span className="menu-item-title">{title}</span>
                  <span className="menu-item-hint">{needsSave ? "Save the workflow first" : hint}</span>
                </span>
              </button>
            );
          })}
        </div>
      )}
    </div>
  );
}
