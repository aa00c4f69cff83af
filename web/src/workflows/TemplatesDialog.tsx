// The templates gallery: example workflows to start from.
import { useEffect, useState } from "react";
import { api, errorMessage, unwrap } from "../api/client";
import type { WorkflowJson } from "../api/types";
import { categoryLook } from "../canvas/categories";
import { useEditor } from "../state/editor";
import { Modal } from "../ui/Modal";
import { confirmDiscard, loadAsNew } from "./workflowActions";

type Template = WorkflowJson & { id: string };

export function TemplatesDialog({ onClose }: { onClose: () => void }) {
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const catalog = useEditor((s) => s.catalog);

  useEffect(() => {
    api
      .GET("/api/workflows/templates/")
      .then((r) => setTemplates(unwrap(r) as unknown as Template[]))
      .catch((e) => setError(errorMessage(e)));
  }, []);

  const use = (template: Template) => {
    if (!confirmDiscard()) return;
    const { id: _id, ...definition } = template;
    void _id;
    loadAsNew(definition);
    onClose();
  };

  return (
    <Modal title="Start from a template" onClose={onClose} width={760}>
      {error && <p className="field-error">{error}</p>}
      {!templates && !error && (
        <p className="muted dialog-note">
          <span className="spinner" /> Loading…
        </p>
      )}
      <ul className="template-grid" aria-label="Templates">
        {templates?.map((t) => (
          <li key={t.id} className="template-card" data-testid={`template-${t.id}`}>
            <h3>{t.name}</h3>
            <p className="template-desc">{t.description ?? ""}</p>
            <div className="template-steps" aria-label="Nodes">
              {t.nodes.map((n) => (
                <span
                  key={n.id}
                  className="template-step"
                  style={{ background: categoryLook(catalog[n.type]?.category ?? "").colour }}
                  title={`${n.data?.label ?? n.id} (${n.type})`}
                />
              ))}
              <span className="muted">{t.nodes.length} nodes</span>
            </div>
            <button type="button" className="btn btn-primary btn-sm" aria-label={`Use template ${t.name}`} onClick={() => use(t)}>
              Use template
            </button>
          </li>
        ))}
      </ul>
    </Modal>
  );
}
