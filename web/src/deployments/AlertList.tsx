// The deployment's alerts, newest first: what crossed a threshold, when, and whether the webhook got it.
import { formatWhen } from "../runs/format";
import { Icon } from "../ui/Icon";
import type { DeploymentAlert } from "./deploymentTypes";

export function AlertList({ alerts }: { alerts: DeploymentAlert[] }) {
  return (
    <section className="card alert-card" aria-label="Alerts">
      <div className="card-head"><h3>Alerts</h3><span className="muted">{alerts.length ? `${alerts.length}, newest first` : ""}</span></div>
      {alerts.length === 0 ? (
        <p className="muted empty-line">
          No alerts. One is raised when a feature drifts or accuracy drops past this deployment's thresholds.
        </p>
      ) : (
        <ul className="alert-list">
          {alerts.map((a) => (
            <li key={a.id} className={`alert-item alert-${a.kind}`} data-testid="alert">
              <Icon name="alert" size={15} />
              <div>
                <div className="alert-head">
                  <span className="alert-kind">{a.kind}</span>
                  <span className="muted" title={a.created_at}>{formatWhen(a.created_at)}</span>
                  {a.webhook_status && <span className="muted">· webhook {a.webhook_status}</span>}
                </div>
                <p>{a.message}</p>
              </div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
