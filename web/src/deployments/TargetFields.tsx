// Choose what a deployment serves: a fixed version of the model, or whatever version one of its aliases names
// (the deployment follows the alias when it moves).
import type { ModelDetail } from "../models/modelTypes";
import type { Target } from "./deploymentTypes";

export type Choice = { kind: "version" | "alias"; version: number | null; alias: string | null };

/** The first choice for a model: the given alias or version, else its first alias, else its newest version. */
export function initialChoice(model: ModelDetail, wanted?: { version?: number | null; alias?: string | null }): Choice {
  const aliases = Object.keys(model.aliases);
  const newest = model.versions[0]?.version ?? null;
  if (wanted?.alias) return { kind: "alias", version: newest, alias: wanted.alias };
  if (wanted?.version != null) return { kind: "version", version: wanted.version, alias: aliases[0] ?? null };
  return aliases.length ? { kind: "alias", version: newest, alias: aliases[0] } : { kind: "version", version: newest, alias: null };
}

export function toTarget(choice: Choice): Target | null {
  if (choice.kind === "alias") return choice.alias ? { alias: choice.alias } : null;
  return choice.version != null ? { version: choice.version } : null;
}

export function TargetFields({ model, choice, onChange, idPrefix }: {
  model: ModelDetail;
  choice: Choice;
  onChange: (choice: Choice) => void;
  idPrefix: string;
}) {
  const aliases = Object.entries(model.aliases);
  return (
    <fieldset className="target-fields">
      <legend>Serve</legend>
      <label className="radio">
        <input type="radio" name={`${idPrefix}-kind`} checked={choice.kind === "alias"} disabled={!aliases.length}
          onChange={() => onChange({ ...choice, kind: "alias", alias: choice.alias ?? aliases[0]?.[0] ?? null })} />
        <span>The version an alias names <span className="muted">(follows the alias when it moves)</span></span>
      </label>
      {choice.kind === "alias" && (
        <div className="target-choice">
          <label htmlFor={`${idPrefix}-alias`}>Alias</label>
          <select id={`${idPrefix}-alias`} className="select" value={choice.alias ?? ""}
            onChange={(e) => onChange({ ...choice, alias: e.target.value })}>
            {aliases.map(([alias, v]) => <option key={alias} value={alias}>{alias} (now version {v})</option>)}
          </select>
        </div>
      )}
      {!aliases.length && (
        <p className="muted hint">This model has no alias yet: set one (e.g. champion) in the model registry to follow it.</p>
      )}
      <label className="radio">
        <input type="radio" name={`${idPrefix}-kind`} checked={choice.kind === "version"}
          onChange={() => onChange({ ...choice, kind: "version" })} />
        A fixed version
      </label>
      {choice.kind === "version" && (
        <div className="target-choice">
          <label htmlFor={`${idPrefix}-version`}>Version</label>
          <select id={`${idPrefix}-version`} className="select" value={choice.version ?? ""}
            onChange={(e) => onChange({ ...choice, version: Number(e.target.value) })}>
            {model.versions.map((v) => (
              <option key={v.version} value={v.version}>
                Version {v.version}{v.aliases.length ? ` (${v.aliases.join(", ")})` : ""}
              </option>
            ))}
          </select>
        </div>
      )}
    </fieldset>
  );
}
