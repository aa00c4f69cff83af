// What the deployment serves and how to change it: point it at another version or alias (PATCH: the new model
// is loaded before it takes over), or delete it after a confirmation.
import { useState, type FormEvent } from "react";
import { errorMessage } from "../api/client";
import { toast } from "../state/toasts";
import { Icon } from "../ui/Icon";
import { Modal } from "../ui/Modal";
import { deploymentsApi } from "./deploymentsApi";
import type { Deployment } from "./deploymentTypes";
import { initialChoice, TargetFields, toTarget, type Choice } from "./TargetFields";
import { useModel } from "./useModel";

export function ServingPanel({ deployment, onChanged, onDeleted }: {
  deployment: Deployment;
  onChanged: (deployment: Deployment) => void;
  onDeleted: () => void;
}) {
  const { model, error: modelError } = useModel(deployment.model);
  const [edited, setEdited] = useState<Choice | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const choice = edited ?? (model ? initialChoice(model, deployment) : null);
  const target = choice && toTarget(choice);
  const unchanged = !!target && target.version === (deployment.version ?? undefined)
    && target.alias === (deployment.alias ?? undefined);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!target || unchanged) return;
    setBusy(true);
    setError(null);
    try {
      const changed = await deploymentsApi.update(deployment.name, target);
      toast.success(`${deployment.name} now serves ${describeTarget(changed)}.`);
      setEdited(null);
      onChanged(changed);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    try {
      await deploymentsApi.remove(deployment.name);
      toast.success(`Deployment ${deployment.name} deleted.`);
      onDeleted();
    } catch (e) {
      setConfirming(false);
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card serving-card" aria-label="Serving">
      <div className="card-head"><h3>Serving</h3><span className="muted">{describeTarget(deployment)}</span></div>
      {modelError && <p className="form-error" role="alert"><Icon name="alert" size={14} /> {modelError}</p>}
      {model && choice && (
        <form className="switch-form" onSubmit={(e) => void submit(e)}>
          <TargetFields model={model} choice={choice} onChange={setEdited} idPrefix="switch" />
          <button type="submit" className="btn btn-primary" disabled={busy || !target || unchanged}>
            {busy && !confirming && <span className="spinner" />} Switch
          </button>
        </form>
      )}
      {error && <p className="form-error" role="alert"><Icon name="alert" size={14} /> {error}</p>}
      <div className="danger-zone">
        <span className="muted">Deleting stops the endpoint and removes its tokens, predictions and monitoring.</span>
        <button type="button" className="btn btn-danger" onClick={() => setConfirming(true)}>
          <Icon name="trash" size={14} /> Delete deployment
        </button>
      </div>
      {confirming && (
        <Modal title={`Delete ${deployment.name}?`} onClose={() => setConfirming(false)} width={440}
          footer={
            <>
              <button type="button" className="btn" onClick={() => setConfirming(false)}>Cancel</button>
              <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void remove()}>
                {busy && <span className="spinner" />} Delete
              </button>
            </>
          }>
          <p>
            The endpoint stops answering at once. Its tokens, logged predictions, monitoring results and alerts are
            deleted; the registered model stays. This cannot be undone.
          </p>
        </Modal>
      )}
    </section>
  );
}

/** "model iris, alias champion → version 3" or "model iris, version 2". */
export function describeTarget(d: Pick<Deployment, "model" | "version" | "alias" | "current_version">): string {
  if (d.alias) return `${d.model}, alias ${d.alias}${d.current_version != null ? ` → version ${d.current_version}` : ""}`;
  return `${d.model}, version ${d.version ?? d.current_version ?? "?"}`;
}
