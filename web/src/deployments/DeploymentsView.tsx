// The deployments page: deployed models on the left, the chosen one's endpoint, tokens, traffic and monitoring
// on the right; "New deployment" deploys a registered model.
import { useCallback, useEffect, useState } from "react";
import { errorMessage } from "../api/client";
import { RunIcon } from "../runs/RunIcon";
import { EmptyState, LoadFailed, Loading } from "../ui/PageState";
import { Icon } from "../ui/Icon";
import { CreateDeploymentDialog } from "./CreateDeploymentDialog";
import { DeploymentDetail } from "./DeploymentDetail";
import { DeploymentList } from "./DeploymentList";
import { deploymentsApi } from "./deploymentsApi";
import type { Deployment } from "./deploymentTypes";
import "../models/models.css";
import "../results/results.css";
import "../runs/runs.css";
import "./deployments.css";

export function DeploymentsView({ initial, onClose }: { initial?: string; onClose: () => void }) {
  const [deployments, setDeployments] = useState<Deployment[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [chosen, setChosen] = useState<string | null>(initial ?? null);
  const [creating, setCreating] = useState(false);
  const [reload, setReload] = useState(0);

  const load = useCallback(async () => {
    try {
      const found = await deploymentsApi.list();
      setDeployments(found);
      setError(null);
      setChosen((current) => (current && found.some((d) => d.name === current) ? current : found[0]?.name ?? null));
    } catch (e) {
      setError(errorMessage(e));
      setDeployments([]);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load, reload]);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && !document.querySelector(".modal") && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const replace = (changed: Deployment) =>
    setDeployments((all) => all?.map((d) => (d.name === changed.name ? changed : d)) ?? null);
  const counted = (name: string, requests: number) =>
    setDeployments((all) => all?.some((d) => d.name === name && d.requests_total !== requests)
      ? all.map((d) => (d.name === name ? { ...d, requests_total: requests } : d)) : all);

  return (
    <div className="models-view deployments-view">
      <header className="models-header">
        <Icon name="box" size={20} />
        <div className="models-heading">
          <h1>Deployments</h1>
          <p>Registered models served as authenticated REST endpoints: tokens, live traffic, drift and accuracy.</p>
        </div>
        <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
          <Icon name="plus" size={14} /> New deployment
        </button>
        <button type="button" className="btn btn-ghost" onClick={() => setReload((n) => n + 1)}>
          <RunIcon name="refresh" size={14} /> Refresh
        </button>
        <button type="button" className="btn" onClick={onClose}>
          <Icon name="close" size={14} /> Close
        </button>
      </header>
      {error ? (
        <LoadFailed what="The deployments could not be read." error={error} />
      ) : deployments === null ? (
        <Loading what="deployments" />
      ) : deployments.length === 0 ? (
        <EmptyState icon="box" title="No deployments yet">
          <p>
            A deployment serves a registered model at its own URL. Press <strong>New deployment</strong>, or open
            {" "}<strong>Models</strong>, choose a version and press <strong>Deploy</strong>. Then create a token and
            send rows to the endpoint.
          </p>
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            <Icon name="plus" size={14} /> New deployment
          </button>
        </EmptyState>
      ) : (
        <div className="models-body">
          <DeploymentList deployments={deployments} chosen={chosen} onChoose={setChosen} />
          {chosen && (
            <DeploymentDetail key={`${chosen}:${reload}`} name={chosen} onChanged={replace}
              onStats={(s) => counted(chosen, s.requests_total)}
              onDeleted={() => { setChosen(null); void load(); }} />
          )}
        </div>
      )}
      {creating && (
        <CreateDeploymentDialog onClose={() => setCreating(false)}
          onCreated={(d) => { setCreating(false); setChosen(d.name); void load(); }} />
      )}
    </div>
  );
}
