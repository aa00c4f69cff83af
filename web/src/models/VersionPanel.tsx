// One version in detail: its metrics, training parameters, lineage and the plots its run logged; deploy it.
import { useEffect, useState } from "react";
import { api, errorMessage, unwrap } from "../api/client";
import { CreateDeploymentDialog, type DeployStart } from "../deployments/CreateDeploymentDialog";
import { Icon } from "../ui/Icon";
import { formatMetric, metricTitle } from "../results/formatValue";
import { scalarMetrics } from "../results/MetricTiles";
import { PlotImage } from "../results/PlotImage";
import { RunIcon } from "../runs/RunIcon";
import type { ArtifactFile, VersionDetail } from "./modelTypes";
import { DownloadButton } from "./VersionTable";

export function VersionPanel({ name, version, onDeployed }: {
  name: string;
  version: number;
  onDeployed: (deployment: string) => void;
}) {
  const [detail, setDetail] = useState<VersionDetail | null>(null);
  const [deploying, setDeploying] = useState<DeployStart | null>(null);
  const [files, setFiles] = useState<ArtifactFile[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stale = false;
    const path = { name, version };
    Promise.all([
      api.GET("/api/models/{name}/versions/{version}", { params: { path } }).then(unwrap),
      api.GET("/api/models/{name}/versions/{version}/artifacts", { params: { path } }).then(unwrap),
    ])
      .then(([d, f]) => !stale && (setDetail(d), setFiles(f)))
      .catch((e) => !stale && setError(errorMessage(e)));
    return () => {
      stale = true;
    };
  }, [name, version]);

  if (error) return <div className="card"><p className="models-error"><Icon name="alert" size={16} /> {error}</p></div>;
  if (!detail) return <div className="card"><p className="models-loading"><span className="spinner" /> Loading version {version}…</p></div>;
  const plots = (files ?? []).filter((f) => f.path.endsWith(".png"));
  const params = Object.entries(detail.params);
  const metrics = scalarMetrics(detail.metrics);

  return (
    <div className="card version-panel" aria-label={`Version ${version}`}>
      <div className="card-head">
        <h3>Version {version}</h3>
        <span className="muted">{detail.run_status ? `MLflow run ${detail.run_status.toLowerCase()}` : ""}</span>
        <span className="card-actions">
          <button type="button" className="btn btn-sm btn-primary" aria-label={`Deploy version ${version}`}
            onClick={() => setDeploying(detail.aliases[0] ? { model: name, alias: detail.aliases[0] } : { model: name, version })}>
            <Icon name="box" size={13} /> Deploy
          </button>
          <DownloadButton name={name} version={version} label="Download model" />
          {detail.links.mlflow_model_version && (
            <a className="btn btn-sm btn-ghost" href={detail.links.mlflow_model_version} target="_blank" rel="noreferrer">
              Open in MLflow <RunIcon name="external" size={12} />
            </a>
          )}
        </span>
      </div>
      <div className="version-columns">
        <div>
          <h4>Metrics</h4>
          {metrics.length ? (
            <dl className="kv">
              {metrics.map(([m, value]) => (
                <div key={m}><dt>{metricTitle(m)}</dt><dd className="mono">{formatMetric(value)}</dd></div>
              ))}
            </dl>
          ) : <p className="muted">No metrics were logged.</p>}
        </div>
        <div>
          <h4>Parameters</h4>
          {params.length ? (
            <dl className="kv">
              {params.map(([k, value]) => <div key={k}><dt>{k}</dt><dd className="mono" title={value}>{value}</dd></div>)}
            </dl>
          ) : <p className="muted">No parameters were logged.</p>}
        </div>
        <div>
          <h4>Lineage</h4>
          <dl className="kv">
            <div><dt>Workflow</dt><dd>{detail.lineage.workflow_name ?? "—"}</dd></div>
            <div><dt>Flowza run</dt><dd className="mono">{detail.lineage.flowza_run_id ?? "—"}</dd></div>
            <div><dt>Node</dt><dd className="mono">{detail.lineage.node_id ?? "—"}</dd></div>
            <div><dt>Prefect flow run</dt><dd className="mono">{detail.lineage.prefect_flow_run_id ?? "—"}</dd></div>
          </dl>
        </div>
      </div>
      {deploying && (
        <CreateDeploymentDialog start={deploying} onClose={() => setDeploying(null)}
          onCreated={(d) => { setDeploying(null); onDeployed(d.name); }} />
      )}
      {plots.length > 0 && (
        <>
          <h4>Plots</h4>
          <div className="plot-grid wide">
            {plots.map((f) => <PlotImage key={f.path} model={name} version={version} path={f.path} />)}
          </div>
        </>
      )}
    </div>
  );
}
