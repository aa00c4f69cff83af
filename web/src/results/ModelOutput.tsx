// A model output: what was trained, and — once registered — its name, version and aliases, a download of the
// artifact and links to MLflow.
import { useEffect, useState } from "react";
import { api, errorMessage } from "../api/client";
import { toast } from "../state/toasts";
import { Icon } from "../ui/Icon";
import { learnMlflowBase, mlflowRunLink } from "../runs/links";
import { RunIcon } from "../runs/RunIcon";
import type { OutputSummary, Run } from "../runs/runTypes";
import { downloadFile, modelPath } from "./resultsApi";

export function ModelOutput({ run, output }: { run: Run; output: OutputSummary }) {
  const registered = output.registered;
  const links = useVersionLinks(registered?.name, registered?.version);
  const [downloading, setDownloading] = useState(false);
  const mlflowRun = links.mlflow_run ?? mlflowRunLink(run);
  const inputs = output.input_columns ?? [];

  const download = async () => {
    if (!registered) return;
    setDownloading(true);
    try {
      await downloadFile(`${modelPath(registered.name)}/versions/${registered.version}/download`,
        `${registered.name}-v${registered.version}.zip`);
    } catch (e) {
      toast.error(`Download failed: ${errorMessage(e)}`);
    } finally {
      setDownloading(false);
    }
  };

  return (
    <div className="model-output">
      <dl className="facts">
        {output.estimator && (<><dt>Estimator</dt><dd className="mono">{output.estimator}</dd></>)}
        {output.task && (<><dt>Task</dt><dd>{output.task}</dd></>)}
        {output.target && (<><dt>Target</dt><dd className="mono">{output.target}</dd></>)}
        {output.features != null && (
          <><dt>Features</dt><dd>{output.features}{inputs.length ? ` (from ${inputs.length} input columns)` : ""}</dd></>
        )}
        {output.classes && (<><dt>Classes</dt><dd>{output.classes.map(String).join(", ")}</dd></>)}
      </dl>
      {inputs.length > 0 && (
        <p className="input-columns" title="The columns a prediction request must send">
          <span className="muted">Inputs:</span> {inputs.join(", ")}
        </p>
      )}
      {registered ? (
        <div className="registered-box" data-testid="registered-model">
          <div className="registered-head">
            <Icon name="models" size={15} />
            <span className="registered-name">{registered.name}</span>
            <span className="version-chip">v{registered.version}</span>
            {registered.alias && <span className="alias-chip">{registered.alias}</span>}
          </div>
          <div className="button-row">
            <button type="button" className="btn btn-sm" onClick={() => void download()} disabled={downloading}>
              {downloading ? <span className="spinner" /> : <Icon name="download" size={13} />} Download model
            </button>
            {mlflowRun && (
              <a className="btn btn-sm btn-ghost" href={mlflowRun} target="_blank" rel="noreferrer">
                MLflow run <RunIcon name="external" size={12} />
              </a>
            )}
            {links.mlflow_model_version && (
              <a className="btn btn-sm btn-ghost" href={links.mlflow_model_version} target="_blank" rel="noreferrer">
                Version <RunIcon name="external" size={12} />
              </a>
            )}
          </div>
        </div>
      ) : (
        <div className="hint-box">
          <p>
            Not registered. Connect a <strong>Register model</strong> node after this one to version the model,
            download it and give it aliases such as <em>champion</em>.
          </p>
          {mlflowRun && (
            <a className="ext-link" href={mlflowRun} target="_blank" rel="noreferrer">
              MLflow run <RunIcon name="external" size={12} />
            </a>
          )}
        </div>
      )}
    </div>
  );
}

function useVersionLinks(name: string | undefined, version: number | undefined): Record<string, string> {
  const [links, setLinks] = useState<Record<string, string>>({});
  useEffect(() => {
    if (!name || !version) return;
    let stale = false;
    api
      .GET("/api/models/{name}/versions/{version}", { params: { path: { name, version } } })
      .then(({ data }) => {
        if (stale || !data) return;
        learnMlflowBase(data.links.mlflow_run);
        setLinks(data.links);
      })
      .catch(() => undefined);
    return () => {
      stale = true;
    };
  }, [name, version]);
  return links;
}
