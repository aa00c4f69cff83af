// The deployments: name, model and what it serves, status, requests so far.
import type { Deployment } from "./deploymentTypes";
import { DeploymentStatus } from "./DeploymentStatus";

type Props = { deployments: Deployment[]; chosen: string | null; onChoose: (name: string) => void };

export function DeploymentList({ deployments, chosen, onChoose }: Props) {
  return (
    <nav className="model-list" aria-label="Deployments">
      <div className="model-list-head">{deployments.length} deployment{deployments.length === 1 ? "" : "s"}</div>
      <ul>
        {deployments.map((d) => (
          <li key={d.name}>
            <button type="button" className={`model-item ${d.name === chosen ? "current" : ""}`}
              aria-current={d.name === chosen || undefined} onClick={() => onChoose(d.name)}
              data-testid={`deployment-${d.name}`}>
              <span className="deployment-item-head">
                <span className="model-item-name">{d.name}</span>
                <DeploymentStatus status={d.status} />
              </span>
              <span className="model-item-meta">
                {d.model} · {d.alias ? <span className="alias-chip">{d.alias}</span> : `v${d.version}`}
                {d.current_version != null && d.alias ? ` → v${d.current_version}` : ""}
              </span>
              <span className="model-item-meta" data-testid={`deployment-${d.name}-requests`}>
                {d.requests_total.toLocaleString()} request{d.requests_total === 1 ? "" : "s"}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
