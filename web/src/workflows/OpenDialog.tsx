// The saved workflows: search, open, rename, delete.
import { useEffect, useMemo, useState } from "react";
import { api, errorMessage, unwrap } from "../api/client";
import type { WorkflowListed } from "../api/types";
import { useEditor } from "../state/editor";
import { toast } from "../state/toasts";
import { Icon } from "../ui/Icon";
import { Modal } from "../ui/Modal";
import { openWorkflow, setLocationWorkflow } from "./workflowActions";
import { timeAgo } from "./timeAgo";

export function OpenDialog({ onClose }: { onClose: () => void }) {
  const [workflows, setWorkflows] = useState<WorkflowListed[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  const [renaming, setRenaming] = useState<{ id: string; name: string } | null>(null);
  const currentId = useEditor((s) => s.workflowId);

  const refresh = async () => {
    try {
      setWorkflows(unwrap(await api.GET("/api/workflows/")));
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  useEffect(() => void refresh(), []);

  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    return (workflows ?? [])
      .filter((w) => !q || `${w.name} ${w.description ?? ""}`.toLowerCase().includes(q))
      .sort((a, b) => b.updated_at.localeCompare(a.updated_at));
  }, [workflows, query]);

  const open = async (id: string) => {
    if (await openWorkflow(id)) onClose();
  };

  const rename = async (workflow: WorkflowListed, name: string) => {
    setRenaming(null);
    if (!name.trim() || name === workflow.name) return;
    try {
      const definition = workflow.definition ?? unwrap(await api.GET("/api/workflows/{workflow_id}", { params: { path: { workflow_id: workflow.id } } })).definition;
      const body = { ...(definition as object), name: name.trim(), description: workflow.description } as never;
      const saved = unwrap(await api.PUT("/api/workflows/{workflow_id}", { params: { path: { workflow_id: workflow.id } }, body }));
      if (useEditor.getState().workflowId === workflow.id) useEditor.setState({ name: saved.name, version: saved.current_version });
      await refresh();
    } catch (e) {
      toast.error(`Rename failed: ${errorMessage(e)}`);
    }
  };

  const remove = async (workflow: WorkflowListed) => {
    if (!window.confirm(`Delete “${workflow.name}” and its versions? This cannot be undone.`)) return;
    try {
      unwrap(await api.DELETE("/api/workflows/{workflow_id}", { params: { path: { workflow_id: workflow.id } } }));
      if (useEditor.getState().workflowId === workflow.id) {
        useEditor.setState({ workflowId: null, version: null, dirty: true });
        setLocationWorkflow(null);
      }
      toast.success(`Deleted “${workflow.name}”`);
      await refresh();
    } catch (e) {
      toast.error(`Delete failed: ${errorMessage(e)}`);
    }
  };

  return (
    <Modal title="Open a workflow" onClose={onClose} width={640}>
      <div className="dialog-search">
        <Icon name="search" className="dialog-search-icon" />
        <input className="input" type="search" placeholder="Search workflows" aria-label="Search workflows" value={query} onChange={(e) => setQuery(e.target.value)} />
      </div>
      {error && <p className="field-error">{error}</p>}
      {!workflows && !error && (
        <p className="muted dialog-note">
          <span className="spinner" /> Loading…
        </p>
      )}
      {workflows && shown.length === 0 && (
        <p className="muted dialog-note">{workflows.length ? `No workflow matches “${query}”.` : "No saved workflows yet: build one and press Save."}</p>
      )}
      <ul className="workflow-list" aria-label="Saved workflows">
        {shown.map((w) => (
          <li key={w.id} className={`workflow-row ${w.id === currentId ? "current" : ""}`} data-testid={`workflow-${w.id}`}>
            <div className="workflow-main">
              {renaming?.id === w.id ? (
                <input
                  className="input"
                  aria-label="New name"
                  autoFocus
                  value={renaming.name}
                  onChange={(e) => setRenaming({ id: w.id, name: e.target.value })}
                  onKeyDown={(e) => {
                    if (e.key === "Enter") void rename(w, renaming.name);
                    if (e.key === "Escape") {
                      e.stopPropagation();
                      setRenaming(null);
                    }
                  }}
                  onBlur={() => void rename(w, renaming.name)}
                />
              ) : (
                <button type="button" className="workflow-name-btn" onClick={() => void open(w.id)}>
                  {w.name}
                </button>
              )}
              <span className="workflow-meta">
                v{w.current_version} · {((w.definition as { nodes?: unknown[] } | null)?.nodes ?? []).length} nodes · updated {timeAgo(w.updated_at)}
                {w.id === currentId && <span className="tag">open</span>}
              </span>
              {w.description && <span className="workflow-desc">{w.description}</span>}
            </div>
            <div className="row-actions">
              <button type="button" className="btn btn-sm" onClick={() => void open(w.id)}>
                Open
              </button>
              <button type="button" className="icon-btn" aria-label={`Rename ${w.name}`} title="Rename" onClick={() => setRenaming({ id: w.id, name: w.name })}>
                <Icon name="edit" />
              </button>
              <button type="button" className="icon-btn danger" aria-label={`Delete ${w.name}`} title="Delete" onClick={() => void remove(w)}>
                <Icon name="trash" />
              </button>
            </div>
          </li>
        ))}
      </ul>
    </Modal>
  );
}
