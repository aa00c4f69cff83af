// One registered model: its aliases (set and remove), its versions with metrics and lineage, and the chosen
// version's parameters and plots.
import { useCallback, useEffect, useState } from "react";
import { api, errorMessage, unwrap } from "../api/client";
import { toast } from "../state/toasts";
import { Icon } from "../ui/Icon";
import { formatWhen } from "../runs/format";
import { learnMlflowBase } from "../runs/links";
import { AliasForm } from "./AliasForm";
import type { ModelDetail } from "./modelTypes";
import { VersionPanel } from "./VersionPanel";
import { VersionTable } from "./VersionTable";

export function ModelDetailView({ name, onChanged, onDeployed }: {
  name: string;
  onChanged: () => void;
  onDeployed: (deployment: string) => void;
}) {
  const [model, setModel] = useState<ModelDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState<number | null>(null);

  const load = useCallback(async () => {
    try {
      const found = unwrap(await api.GET("/api/models/{name}", { params: { path: { name } } }));
      found.versions.forEach((v) => learnMlflowBase(v.links.mlflow_run));
      setModel(found);
      setError(null);
      setVersion((current) => current ?? found.versions[0]?.version ?? null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [name]);

  useEffect(() => {
    void load();
  }, [load]);

  const removeAlias = async (alias: string) => {
    try {
      const answer = await api.DELETE("/api/models/{name}/aliases/{alias}", { params: { path: { name, alias } } });
      if (!answer.response.ok) throw new Error(errorMessage(answer.error));
      toast.success(`Alias ${alias} removed.`);
      await load();
      onChanged();
    } catch (e) {
      toast.error(`Could not remove ${alias}: ${errorMessage(e)}`);
    }
  };

  if (error) {
    return (
      <section className="model-detail">
        <p className="models-error" role="alert"><Icon name="alert" size={16} /> {error}</p>
      </section>
    );
  }
  if (!model) {
    return <section className="model-detail"><p className="models-loading"><span className="spinner" /> Loading…</p></section>;
  }
  const aliases = Object.entries(model.aliases);
  return (
    <section className="model-detail" aria-label={`Model ${model.name}`}>
      <div className="model-title">
        <h2>{model.name}</h2>
        <span className="muted">
          {model.versions.length} version{model.versions.length === 1 ? "" : "s"} · created {formatWhen(model.created_at)}
          {" "}· updated {formatWhen(model.updated_at)}
        </span>
      </div>
      {model.description && <p className="model-description">{model.description}</p>}

      <div className="card alias-card">
        <div className="card-head">
          <h3>Aliases</h3>
          <div className="chip-row" data-testid="model-aliases">
            {aliases.length === 0 && <span className="muted">None yet. An alias (e.g. champion) names the version to serve.</span>}
            {aliases.map(([alias, v]) => (
              <span key={alias} className="alias-chip removable">
                {alias} → v{v}
                <button type="button" aria-label={`Remove alias ${alias}`} title="Remove alias" onClick={() => void removeAlias(alias)}>
                  <Icon name="close" size={11} />
                </button>
              </span>
            ))}
          </div>
        </div>
        <AliasForm name={model.name} versions={model.versions.map((v) => v.version)} onSet={async () => { await load(); onChanged(); }} />
      </div>

      <div className="card">
        <div className="card-head"><h3>Versions</h3><span className="muted">newest first · click one for its parameters and plots</span></div>
        <VersionTable name={model.name} versions={model.versions} chosen={version} onChoose={setVersion} />
      </div>

      {version != null && <VersionPanel key={version} name={model.name} version={version} onDeployed={onDeployed} />}
    </section>
  );
}
