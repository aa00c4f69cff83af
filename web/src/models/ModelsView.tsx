// The model registry page: registered models on the left, the chosen model's versions, metrics and aliases on
// the right.
import { useCallback, useEffect, useState } from "react";
import { api, errorMessage, unwrap } from "../api/client";
import { EmptyState, LoadFailed, Loading } from "../ui/PageState";
import { Icon } from "../ui/Icon";
import { RunIcon } from "../runs/RunIcon";
import { ModelDetailView } from "./ModelDetailView";
import { ModelList } from "./ModelList";
import type { ModelSummary } from "./modelTypes";
import "../results/results.css";
import "./models.css";

export function ModelsView({ onClose, onDeployed }: { onClose: () => void; onDeployed: (deployment: string) => void }) {
  const [models, setModels] = useState<ModelSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  const load = useCallback(async () => {
    try {
      const found = unwrap(await api.GET("/api/models/"));
      setModels(found);
      setError(null);
      setChosen((current) => (current && found.some((m) => m.name === current) ? current : found[0]?.name ?? null));
    } catch (e) {
      setError(errorMessage(e));
      setModels([]);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load, reload]);

  useEffect(() => {
    // Escape in the deploy dialog closes that dialog only.
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && !document.querySelector(".modal") && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  return (
    <div className="models-view">
      <header className="models-header">
        <Icon name="models" size={20} />
        <div className="models-heading">
          <h1>Model registry</h1>
          <p>Models registered by <strong>Register model</strong> nodes: versions, their metrics, and aliases that promote them.</p>
        </div>
        <button type="button" className="btn btn-ghost" onClick={() => setReload((n) => n + 1)}>
          <RunIcon name="refresh" size={14} /> Refresh
        </button>
        <button type="button" className="btn" onClick={onClose}>
          <Icon name="close" size={14} /> Close
        </button>
      </header>
      {error ? (
        <LoadFailed what="The registry could not be read." error={error} />
      ) : models === null ? (
        <Loading what="models" />
      ) : models.length === 0 ? (
        <EmptyState icon="models" title="No registered models yet">
          <p>
            Add a <strong>Register model</strong> node after a training node, give the model a name, and run the
            workflow. Each run that changes the model adds a version here.
          </p>
        </EmptyState>
      ) : (
        <div className="models-body">
          <ModelList models={models} chosen={chosen} onChoose={setChosen} />
          {chosen && (
            <ModelDetailView key={`${chosen}:${reload}`} name={chosen} onChanged={() => void load()} onDeployed={onDeployed} />
          )}
        </div>
      )}
    </div>
  );
}
