import type { FieldProps } from "../ParameterField";

export type ChecklistOption = { value: string; hint?: string };

/** Several values out of a known list (the upstream table's columns, or an enum), as checkboxes. */
export function Checklist({
  id,
  label,
  value,
  invalid,
  onChange,
  options,
  loading,
  emptyMeans,
  missing: missingLabel = { text: "missing", title: "Not a column of the input" },
}: FieldProps<string[]> & {
  options: ChecklistOption[];
  loading?: boolean;
  emptyMeans?: string;
  /** How a chosen value that is not among the options is marked. */
  missing?: { text: string; title: string };
}) {
  const chosen = new Set(value ?? []);
  const missing = loading ? [] : [...chosen].filter((name) => !options.some((o) => o.value === name));
  const toggle = (name: string, on: boolean) => {
    const next = on ? [...(value ?? []), name] : (value ?? []).filter((v) => v !== name);
    onChange(next.length || !emptyMeans ? next : undefined);
  };
  const summary = loading
    ? "Loading columns…"
    : chosen.size === 0 && emptyMeans
      ? `None selected: ${emptyMeans}`
      : `${chosen.size} of ${options.length} selected`;
  return (
    <div id={id} className={`checklist ${invalid || missing.length ? "invalid" : ""}`} role="group" aria-label={label}>
      <div className="checklist-head">
        <span className="muted">{summary}</span>
        {chosen.size > 0 && (
          <button type="button" className="link-btn" onClick={() => onChange(emptyMeans ? undefined : [])}>
            Clear
          </button>
        )}
      </div>
      <div className="checklist-items">
        {missing.map((name) => (
          <label key={name} className="check-item missing" title={missingLabel.title}>
            <input type="checkbox" checked onChange={() => toggle(name, false)} />
            <span>{name}</span>
            <span className="dtype">{missingLabel.text}</span>
          </label>
        ))}
        {options.map((o) => (
          <label key={o.value} className="check-item">
            <input type="checkbox" checked={chosen.has(o.value)} onChange={(e) => toggle(o.value, e.target.checked)} />
            <span>{o.value}</span>
            {o.hint && <span className="dtype">{o.hint}</span>}
          </label>
        ))}
      </div>
    </div>
  );
}
