// Monitoring, as charts: drift per feature from the latest result, accuracy (or RMSE) over time, latency
// percentiles, volume; then the alerts. "Run monitoring now" starts the monitoring flow on Prefect.
import { formatWhen } from "../runs/format";
import { Icon } from "../ui/Icon";
import { AlertList } from "./AlertList";
import type { Deployment, MonitoringResult } from "./deploymentTypes";
import { DriftChart } from "./DriftChart";
import { TimeSeriesChart, type ReferenceLine } from "./TimeSeriesChart";
import { useMonitoring } from "./useMonitoring";

export function MonitoringPanel({ deployment }: { deployment: Deployment }) {
  const { data, error, running, runNow } = useMonitoring(deployment.name);
  const results = data?.results ?? [];
  const latest = results[results.length - 1];
  const every = formatInterval(deployment.monitoring_interval_s);

  return (
    <section className="monitoring" aria-label="Monitoring">
      <div className="section-head">
        <h2>Monitoring</h2>
        <span className="muted">
          every {every}
          {latest && ` · last result ${formatWhen(latest.created_at)}: ${latest.volume.toLocaleString()} predictions`
            + `${latest.model_version != null ? ` of version ${latest.model_version}` : ""}`}
        </span>
        <button type="button" className="btn" onClick={() => void runNow()} disabled={running}>
          {running ? <span className="spinner" /> : <Icon name="chart" size={14} />}
          {running ? "Monitoring…" : "Run monitoring now"}
        </button>
      </div>
      {error && <p className="form-error" role="alert"><Icon name="alert" size={14} /> {error}</p>}
      {data === null ? (
        !error && <p className="models-loading"><span className="spinner" /> Loading monitoring…</p>
      ) : !latest ? (
        <div className="card monitoring-empty" data-testid="monitoring-empty">
          <Icon name="chart" size={28} />
          <h3>No monitoring results yet</h3>
          <p>
            Monitoring runs every {every} on the predictions logged since its last run: drift of each input feature
            against the training rows, accuracy once predictions are labelled, latency and volume.
            {running ? " A run has started: its result shows here when it is done." : " Or run it now."}
          </p>
        </div>
      ) : (
        <div className="monitoring-grid">
          <div className="card">
            <div className="card-head">
              <h3>Drift per feature</h3>
              <span className="muted">latest result · window {formatWhen(latest.window_start)} – {formatWhen(latest.window_end)}</span>
            </div>
            {latest.note && <p className="results-note" data-testid="monitoring-note">{latest.note}</p>}
            {Object.keys(latest.drift).length ? (
              <DriftChart drift={latest.drift} thresholds={deployment.thresholds} />
            ) : !latest.note && (
              <p className="muted empty-line">
                No predictions in this window: drift is measured on the next one with traffic.
              </p>
            )}
          </div>
          <QualityChart deployment={deployment} results={results} />
          <div className="card">
            <div className="card-head"><h3>Latency</h3><span className="muted">per request, ms</span></div>
            <TimeSeriesChart title="Latency percentiles over time" testId="latency-chart" yTitle="ms" fromZero
              times={results.map((r) => r.window_end)}
              series={[
                { name: "p50", values: results.map((r) => r.latency_p50) },
                { name: "p95", values: results.map((r) => r.latency_p95) },
                { name: "p99", values: results.map((r) => r.latency_p99) },
              ]} />
          </div>
          <div className="card">
            <div className="card-head"><h3>Volume</h3><span className="muted">predictions per window</span></div>
            <TimeSeriesChart title="Predictions per monitored window" testId="volume-chart" yTitle="predictions" bars fromZero
              times={results.map((r) => r.window_end)} series={[{ name: "Predictions", values: results.map((r) => r.volume) }]} />
          </div>
        </div>
      )}
      {data && <AlertList alerts={data.alerts} />}
    </section>
  );
}

/** Accuracy (classifiers) or RMSE (regressors) over time, against the training figure and the alert line. */
function QualityChart({ deployment, results }: { deployment: Deployment; results: MonitoringResult[] }) {
  const accuracy = results.some((r) => r.accuracy != null);
  const rmse = !accuracy && results.some((r) => r.rmse != null);
  const head = <div className="card-head"><h3>{rmse ? "RMSE" : "Accuracy"}</h3><span className="muted">on labelled predictions</span></div>;
  if (!accuracy && !rmse) {
    return (
      <div className="card">
        {head}
        <p className="muted empty-line" data-testid="accuracy-empty">
          No labelled predictions yet. Send the true outcomes with POST /api/deployments/{deployment.name}/feedback
          {" "}{"{\"request_id\", \"label\"}"}: the next monitoring run measures them.
        </p>
      </div>
    );
  }
  const reference = [...results].reverse().find((r) => r.reference_metric != null)?.reference_metric;
  const { accuracy_drop, rmse_increase } = deployment.thresholds;
  const references: ReferenceLine[] = reference == null ? [] : [
    { label: `training ${+reference.toPrecision(3)}`, value: reference },
    rmse
      ? { label: `alert above (+${Math.round(rmse_increase * 100)}%)`, value: reference * (1 + rmse_increase) }
      : { label: `alert below (−${accuracy_drop})`, value: reference - accuracy_drop },
  ];
  return (
    <div className="card">
      {head}
      <TimeSeriesChart title={`${rmse ? "RMSE" : "Accuracy"} over time`} testId="accuracy-chart" yTitle={rmse ? "RMSE" : "accuracy"}
        fromZero={rmse} times={results.map((r) => r.window_end)} references={references}
        series={[{ name: rmse ? "RMSE" : "Accuracy", values: results.map((r) => (rmse ? r.rmse : r.accuracy)) }]} />
    </div>
  );
}

export function formatInterval(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? "hour" : `${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? "minute" : `${seconds / 60} minutes`;
  return `${seconds} s`;
}
