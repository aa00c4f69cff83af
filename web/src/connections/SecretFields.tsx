// The inputs of a kind's fields: text for settings, password inputs for secrets (never filled from the API),
// and name/value rows for the http kind's secret headers.
import type { FieldSpec, HeaderRow } from "./connectionKinds";
import { Icon } from "../ui/Icon";

export function ConnectionFields({ idPrefix, fields, values, onValues, headers, onHeaders }: {
  idPrefix: string;
  fields: FieldSpec[];
  values: Record<string, string>;
  onValues: (values: Record<string, string>) => void;
  headers: HeaderRow[];
  onHeaders: (rows: HeaderRow[]) => void;
}) {
  return (
    <>
      {fields.map((f) => {
        const id = `${idPrefix}-${f.key}`;
        return (
          <div className="conn-field" key={f.key}>
            <label htmlFor={f.input === "headers" ? undefined : id}>
              {f.label}
              {f.required && f.input !== "headers" && <span className="required" aria-hidden> *</span>}
              {(f.input === "password" || f.input === "headers") && <span className="conn-secret-tag">secret</span>}
            </label>
            {f.input === "headers" ? (
              <HeaderRows idPrefix={id} rows={headers} onChange={onHeaders} />
            ) : (
              <input
                id={id}
                className="input"
                type={f.input === "password" ? "password" : "text"}
                autoComplete={f.input === "password" ? "new-password" : "off"}
                spellCheck={false}
                placeholder={f.placeholder}
                value={values[f.key] ?? ""}
                onChange={(e) => onValues({ ...values, [f.key]: e.target.value })}
              />
            )}
            {f.help && <p className="field-help">{f.help}</p>}
          </div>
        );
      })}
    </>
  );
}

function HeaderRows({ idPrefix, rows, onChange }: { idPrefix: string; rows: HeaderRow[]; onChange: (rows: HeaderRow[]) => void }) {
  const set = (i: number, patch: Partial<HeaderRow>) => onChange(rows.map((r, k) => (k === i ? { ...r, ...patch } : r)));
  return (
    <div className="conn-headers" role="group" aria-label="Headers">
      {rows.map((row, i) => (
        <div className="conn-header-row" key={i}>
          <input id={`${idPrefix}-name-${i}`} className="input" aria-label={`Header ${i + 1} name`} placeholder="Authorization"
            spellCheck={false} value={row.name} onChange={(e) => set(i, { name: e.target.value })} />
          <input id={`${idPrefix}-value-${i}`} className="input" type="password" autoComplete="new-password"
            aria-label={`Header ${i + 1} value`} placeholder="Bearer …" value={row.value}
            onChange={(e) => set(i, { value: e.target.value })} />
          <button type="button" className="icon-btn" aria-label={`Remove header ${i + 1}`}
            onClick={() => onChange(rows.filter((_, k) => k !== i))}>
            <Icon name="close" size={14} />
          </button>
        </div>
      ))}
      <button type="button" className="btn btn-ghost btn-sm" onClick={() => onChange([...rows, { name: "", value: "" }])}>
        <Icon name="plus" size={13} /> Add header
      </button>
    </div>
  );
}
