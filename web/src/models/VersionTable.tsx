// A model's versions: aliases, status, when, its main metrics, where it came from, download and MLflow links.
import { useState } from "react";
import { errorMessage } from "../api/client";
import { toast } from "../state/toasts";
import { Icon } from "../ui/Icon";
import { formatWhen, shortRunId } from "../runs/format";
import { RunIcon } from "../runs/RunIcon";
import { formatMetric, metricTitle } from "../results/formatValue";
import { scalarMetrics } from "../results/MetricTiles";
import { downloadFile, modelPath } from "../results/resultsApi";
import type { VersionSummary } from "./modelTypes";

type Props = { name: string; versions: VersionSummary[]; chosen: number | null; onChoose: (v: number) => void };

export function VersionTable({ name, versions, chosen, onChoose }: Props) {
  const metricNames: string[] = [];
  for (const v of versions) {
    for (const [m] of scalarMetrics(v.metrics)) if (!metricNames.includes(m)) metricNames.push(m);
  }
  const columns = scalarMetrics(Object.fromEntries(metricNames.map((m) => [m, 0]))).map(([m]) => m).slice(0, 4);

  return (
    <div className="version-scroll">
      <table className="version-table">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Aliases</th>
            <th scope="col">Created</th>
            {columns.map((m) => <th scope="col" key={m} className="num">{metricTitle(m)}</th>)}
            <th scope="col">From</th>
            <th scope="col"><span className="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.version} className={v.version === chosen ? "current" : undefined} onClick={() => onChoose(v.version)}
              data-testid={`version-${v.version}`}>
              <td>
                <button type="button" className="text-btn version-link" aria-current={v.version === chosen || undefined}
                  onClick={(e) => { e.stopPropagation(); onChoose(v.version); }}>
                  v{v.version}
                </button>
                {v.status && v.status !== "READY" && <span className="muted"> {v.status.toLowerCase()}</span>}
              </td>
              <td><span className="chip-row">{v.aliases.map((a) => <span key={a} className="alias-chip">{a}</span>)}</span></td>
              <td title={v.created_at ?? undefined}>{formatWhen(v.created_at)}</td>
              {columns.map((m) => (
                <td key={m} className="num" data-testid={`version-${v.version}-metric-${m}`}>
                  {v.metrics[m] != null ? formatMetric(v.metrics[m]) : "—"}
                </td>
              ))}
              <td className="lineage" title={`${v.lineage.workflow_name ?? ""}${v.lineage.flowza_run_id ? ` · run ${v.lineage.flowza_run_id}` : ""}`}>
                {v.lineage.workflow_name ?? "—"}
                {v.lineage.flowza_run_id && <span className="muted mono"> · run {shortRunId(v.lineage.flowza_run_id)}</span>}
              </td>
              <td className="row-actions" onClick={(e) => e.stopPropagation()}>
                <DownloadButton name={name} version={v.version} compact />
                {v.links.mlflow_run && (
                  <a className="icon-btn" href={v.links.mlflow_run} target="_blank" rel="noreferrer"
                    aria-label={`Version ${v.version} in MLflow`} title="Open the MLflow run">
                    <RunIcon name="external" size={15} />
                  </a>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function DownloadButton({ name, version, label = "Download", compact = false }: {
  name: string;
  version: number;
  label?: string;
  compact?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const download = async () => {
    setBusy(true);
    try {
      await downloadFile(`${modelPath(name)}/versions/${version}/download`, `${name}-v${version}.zip`);
    } catch (e) {
      toast.error(`Download failed: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };
  const icon = busy ? <span className="spinner" /> : <Icon name="download" size={compact ? 15 : 13} />;
  if (compact) {
    return (
      <button type="button" className="icon-btn" onClick={() => void download()} disabled={busy}
        aria-label={`Download ${name} version ${version}`} title="Download the model (zip)">
        {icon}
      </button>
    );
  }
  return (
    <button type="button" className="btn btn-sm" onClick={() => void download()} disabled={busy}>
      {icon} {label}
    </button>
  );
}
