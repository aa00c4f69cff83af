// What an empty canvas says: how to start.
import { useDialogs } from "../state/dialogs";
import { Icon } from "../ui/Icon";

export function EmptyCanvas() {
  return (
    <div className="empty-canvas">
      <div className="empty-card">
        <div className="empty-icon">
          <Icon name="layout" size={28} />
        </div>
        <h2>Build a workflow</h2>
        <p>Drag nodes from the palette, drop a CSV file here, start from a template, or describe the pipeline in a sentence.</p>
        <div className="empty-actions">
          <button type="button" className="btn btn-primary" onClick={() => useDialogs.getState().show("templates")}>
            <Icon name="template" /> Browse templates
          </button>
          <button type="button" className="btn" onClick={() => useDialogs.getState().show("open")}>
            <Icon name="folder" /> Open a workflow
          </button>
          <button type="button" className="btn" onClick={() => useDialogs.getState().show("describe")}>
            <Icon name="sparkles" /> Describe your pipeline
          </button>
        </div>
      </div>
    </div>
  );
}
