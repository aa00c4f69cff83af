// The registered models: name, latest version, aliases, last change.
import { formatWhen } from "../runs/format";
import type { ModelSummary } from "./modelTypes";

type Props = { models: ModelSummary[]; chosen: string | null; onChoose: (name: string) => void };

export function ModelList({ models, chosen, onChoose }: Props) {
  return (
    <nav className="model-list" aria-label="Registered models">
      <div className="model-list-head">{models.length} model{models.length === 1 ? "" : "s"}</div>
      <ul>
        {models.map((m) => (
          <li key={m.name}>
            <button
              type="button"
              className={`model-item ${m.name === chosen ? "current" : ""}`}
              aria-current={m.name === chosen || undefined}
              onClick={() => onChoose(m.name)}
              data-testid={`model-${m.name}`}
            >
              <span className="model-item-name">{m.name}</span>
              <span className="model-item-meta">
                {m.latest_version != null ? `v${m.latest_version} latest` : "no versions"} · {formatWhen(m.updated_at)}
              </span>
              {Object.keys(m.aliases).length > 0 && (
                <span className="chip-row">
                  {Object.entries(m.aliases).map(([alias, version]) => (
                    <span key={alias} className="alias-chip">{alias} → v{version}</span>
                  ))}
                </span>
              )}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
