// One deployment's page: its endpoint and a curl example, live traffic, tokens, what it serves, and its
// monitoring as charts with the alerts.
import { useCallback, useEffect, useRef, useState } from "react";
import { errorMessage } from "../api/client";
import { formatWhen } from "../runs/format";
import { Icon } from "../ui/Icon";
import { DeploymentStatus } from "./DeploymentStatus";
import { deploymentsApi } from "./deploymentsApi";
import type { Deployment, DeploymentStats, NewToken } from "./deploymentTypes";
import { EndpointPanel } from "./EndpointPanel";
import { LiveCounter } from "./LiveCounter";
import { MonitoringPanel } from "./MonitoringPanel";
import { describeTarget, ServingPanel } from "./ServingPanel";
import { TokenPanel } from "./TokenPanel";
import { usePoll } from "./usePoll";

const LOADING_POLL_MS = 2000; // while its model loads (an alias moved): until it is ready or failed

export function DeploymentDetail({ name, onChanged, onStats, onDeleted }: {
  name: string;
  onChanged: (deployment: Deployment) => void;
  onStats: (stats: DeploymentStats) => void;
  onDeleted: () => void;
}) {
  const [deployment, setDeployment] = useState<Deployment | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [token, setToken] = useState<NewToken | null>(null);
  const [requests, setRequests] = useState<number>();
  const [exampleRow, setExampleRow] = useState<Record<string, unknown> | null>(null);
  const askedForExample = useRef(-1);

  const load = useCallback(async () => {
    try {
      setDeployment(await deploymentsApi.get(name));
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [name]);

  useEffect(() => {
    void load();
  }, [load]);
  usePoll(load, LOADING_POLL_MS, deployment?.status === "loading");

  const changed = (d: Deployment) => {
    setDeployment(d);
    onChanged(d);
  };

  const stats = (s: DeploymentStats) => {
    setRequests(s.requests_total);
    onStats(s);
    // The first served row makes the curl example real; ask once per new count until one is found.
    if (!exampleRow && s.predictions_total > 0 && askedForExample.current !== s.predictions_total) {
      askedForExample.current = s.predictions_total;
      deploymentsApi.latestPrediction(name).then((p) => p && setExampleRow(p.input)).catch(() => undefined);
    }
  };

  if (error && !deployment) {
    return <section className="deployment-detail"><p className="models-error" role="alert"><Icon name="alert" size={16} /> {error}</p></section>;
  }
  if (!deployment) {
    return <section className="deployment-detail"><p className="models-loading"><span className="spinner" /> Loading {name}…</p></section>;
  }
  return (
    <section className="deployment-detail" aria-label={`Deployment ${deployment.name}`}>
      <div className="model-title">
        <h2>{deployment.name}</h2>
        <DeploymentStatus status={deployment.status} />
        <span className="muted">
          serves {describeTarget(deployment)} · created {formatWhen(deployment.created_at)}
        </span>
      </div>
      {deployment.status === "failed" && deployment.error && (
        <p className="models-error inline" role="alert"><Icon name="alert" size={16} /> {deployment.error}</p>
      )}
      {error && <p className="form-error" role="alert"><Icon name="alert" size={14} /> {error}</p>}
      <div className="deployment-grid">
        <EndpointPanel deployment={deployment} token={token?.token ?? null} exampleRow={exampleRow} />
        <LiveCounter name={deployment.name} onStats={stats} />
        <TokenPanel name={deployment.name} requests={requests} created={token} onCreated={setToken} />
        <ServingPanel deployment={deployment} onChanged={changed} onDeleted={onDeleted} />
      </div>
      <MonitoringPanel deployment={deployment} />
    </section>
  );
}
