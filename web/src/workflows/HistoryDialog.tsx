// The saved versions of the open workflow; restoring one saves it again as the newest version.
import { useEffect, useState } from "react";
import { api, errorMessage, unwrap } from "../api/client";
import type { components } from "../api/schema";
import { useEditor } from "../state/editor";
import { toast } from "../state/toasts";
import { Modal } from "../ui/Modal";
import { timeAgo } from "./timeAgo";
import { confirmDiscard, openWorkflow } from "./workflowActions";

type Version = components["schemas"]["api__routes__versions__VersionSummary"];

export function HistoryDialog({ onClose }: { onClose: () => void }) {
  const workflowId = useEditor((s) => s.workflowId);
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!workflowId) return;
    api
      .GET("/api/workflows/{workflow_id}/versions", { params: { path: { workflow_id: workflowId } } })
      .then((r) => setVersions(unwrap(r).sort((a, b) => b.version - a.version)))
      .catch((e) => setError(errorMessage(e)));
  }, [workflowId]);

  const restore = async (version: number) => {
    if (!workflowId || !confirmDiscard()) return;
    try {
      unwrap(
        await api.POST("/api/workflows/{workflow_id}/versions/{version}/restore", {
          params: { path: { workflow_id: workflowId, version } },
        }),
      );
      await openWorkflow(workflowId, false);
      toast.success(`Restored version ${version} (saved as version ${useEditor.getState().version})`);
      onClose();
    } catch (e) {
      toast.error(`Restore failed: ${errorMessage(e)}`);
    }
  };

  return (
    <Modal title="Version history" onClose={onClose} width={520}>
      {!workflowId && <p className="muted dialog-note">Save the workflow first: each save is a version.</p>}
      {error && <p className="field-error">{error}</p>}
      {workflowId && !versions && !error && (
        <p className="muted dialog-note">
          <span className="spinner" /> Loading…
        </p>
      )}
      <ol className="version-list" aria-label="Versions">
        {versions?.map((v) => (
          <li key={v.version} className={`version-row ${v.current ? "current" : ""}`}>
            <span className="version-number">v{v.version}</span>
            <span className="version-meta">
              <span>
                {new Date(v.created_at).toLocaleString()} <span className="muted">({timeAgo(v.created_at)})</span>
              </span>
              <span className="muted">
                {v.nodes} nodes · {v.edges} connections{v.created_by ? ` · by ${v.created_by}` : ""}
              </span>
            </span>
            {v.current ? (
              <span className="tag">current</span>
            ) : (
              <button type="button" className="btn btn-sm" onClick={() => void restore(v.version)}>
                Restore
              </button>
            )}
          </li>
        ))}
      </ol>
    </Modal>
  );
}
