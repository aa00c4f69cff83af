// Create a deployment: a name, the model, the version or alias it serves, how often monitoring runs.
// POST /api/deployments answers once the model is loaded, so the dialog waits for it.
import { useEffect, useState, type FormEvent } from "react";
import { api, errorMessage, unwrap } from "../api/client";
import type { ModelSummary } from "../models/modelTypes";
import { Icon } from "../ui/Icon";
import { Modal } from "../ui/Modal";
import { deploymentsApi } from "./deploymentsApi";
import type { Deployment } from "./deploymentTypes";
import { initialChoice, TargetFields, toTarget, type Choice } from "./TargetFields";
import { useModel } from "./useModel";
import "./deployments.css";

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export type DeployStart = { model: string; version?: number; alias?: string };

/** A valid deployment name from the model's name and what it serves: "Iris LR" + champion → "iris-lr-champion". */
export function suggestName(model: string, choice: Choice | null): string {
  const target = !choice ? "" : choice.kind === "alias" ? choice.alias ?? "" : choice.version != null ? `v${choice.version}` : "";
  const slug = `${model}-${target}`.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return slug.slice(0, 63).replace(/-+$/, "") || "model";
}

export function CreateDeploymentDialog({ start, onClose, onCreated }: {
  start?: DeployStart;
  onClose: () => void;
  onCreated: (deployment: Deployment) => void;
}) {
  const [models, setModels] = useState<ModelSummary[] | null>(null);
  const [modelName, setModelName] = useState<string | null>(start?.model ?? null);
  const { model, error: modelError } = useModel(modelName);
  const [choice, setChoice] = useState<Choice | null>(null);
  const [name, setName] = useState("");
  const [nameEdited, setNameEdited] = useState(false);
  const [minutes, setMinutes] = useState(60);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.GET("/api/models/").then(unwrap)
      .then((found) => {
        setModels(found);
        setModelName((current) => current ?? found[0]?.name ?? null);
      })
      .catch((e) => setError(errorMessage(e)));
  }, []);

  useEffect(() => {
    if (model) setChoice(initialChoice(model, model.name === start?.model ? start : undefined));
  }, [model, start]);

  const shownName = nameEdited ? name : model ? suggestName(model.name, choice) : "";
  const nameProblem = shownName && !NAME.test(shownName)
    ? "Lower-case letters, digits and '-', starting with a letter or digit, at most 63 characters." : null;
  const target = choice && toTarget(choice);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!model || !target || nameProblem || !shownName) return;
    setBusy(true);
    setError(null);
    try {
      const created = await deploymentsApi.create({
        name: shownName, model: model.name, ...target, monitoring_interval_s: Math.round(minutes * 60),
      });
      onCreated(created);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const footer = (
    <>
      <button type="button" className="btn" onClick={onClose}>Cancel</button>
      <button type="submit" form="create-deployment" className="btn btn-primary"
        disabled={busy || !target || !shownName || !!nameProblem}>
        {busy && <span className="spinner" />} {busy ? "Loading the model…" : "Create deployment"}
      </button>
    </>
  );
  return (
    <Modal title="New deployment" onClose={onClose} footer={footer} width={520}>
      <form id="create-deployment" className="deploy-form" onSubmit={(e) => void submit(e)}>
        <label htmlFor="deploy-model">Model</label>
        {models && models.length === 0 ? (
          <p className="muted">No registered model yet: run a workflow with a <strong>Register model</strong> node first.</p>
        ) : (
          <select id="deploy-model" className="select" value={modelName ?? ""} disabled={!models}
            onChange={(e) => { setModelName(e.target.value); setChoice(null); }}>
            {modelName && !models && <option value={modelName}>{modelName}</option>}
            {models?.map((m) => <option key={m.name} value={m.name}>{m.name}</option>)}
          </select>
        )}
        {modelError && <p className="form-error" role="alert"><Icon name="alert" size={14} /> {modelError}</p>}
        {model && choice && <TargetFields model={model} choice={choice} onChange={setChoice} idPrefix="deploy" />}

        <label htmlFor="deploy-name">Deployment name</label>
        <input id="deploy-name" className={`input mono ${nameProblem ? "invalid" : ""}`} value={shownName} maxLength={63}
          spellCheck={false} aria-invalid={!!nameProblem} aria-describedby="deploy-name-hint"
          onChange={(e) => { setName(e.target.value); setNameEdited(true); }} />
        <span id="deploy-name-hint" className={nameProblem ? "field-problem" : "muted hint"}>
          {nameProblem ?? `Part of the endpoint's URL: /api/deployments/${shownName || "<name>"}/invocations`}
        </span>

        <label htmlFor="deploy-interval">Run monitoring every (minutes)</label>
        <input id="deploy-interval" className="input" type="number" min={1} step={1} value={minutes}
          onChange={(e) => setMinutes(Number(e.target.value))} />

        {error && <p className="form-error" role="alert"><Icon name="alert" size={14} /> {error}</p>}
      </form>
    </Modal>
  );
}
