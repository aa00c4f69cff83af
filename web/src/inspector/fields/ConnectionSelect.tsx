// A named connection of the kind the node needs (the schema's `connection_kind` hint), chosen from the user's
// connections; a link opens the Connections page to add one.
import { useEffect } from "react";
import { kindTitle } from "../../connections/connectionKinds";
import { useConnections } from "../../connections/connectionsStore";
import type { FieldProps } from "../ParameterField";

export function ConnectionSelect({ id, label, schema, value, invalid, onChange, kind }: FieldProps<string> & { kind: string }) {
  const connections = useConnections((s) => s.connections);
  const error = useConnections((s) => s.error);
  const load = useConnections((s) => s.load);
  useEffect(() => {
    if (connections === null) void load();
  }, [connections, load]);
  const offered = (connections ?? []).filter((c) => c.kind === kind);
  const chosen = connections?.find((c) => c.name === value);
  const unknown = value != null && connections !== null && !chosen;
  const wrongKind = chosen && chosen.kind !== kind;
  return (
    <div className="connection-select">
      <select
        id={id}
        className={`select ${invalid || unknown || wrongKind ? "invalid" : ""}`}
        aria-label={label}
        aria-invalid={invalid || unknown || wrongKind || undefined}
        value={value ?? ""}
        onChange={(e) => onChange(e.target.value || undefined)}
      >
        <option value="">
          {connections === null ? "Loading connections…" : offered.length ? `— choose a ${kindTitle(kind)} connection —`
            : schema.nullable ? "— none —" : `— no ${kindTitle(kind)} connection yet —`}
        </option>
        {value && connections !== null && (unknown || wrongKind) && (
          <option value={value}>{value} ({unknown ? "not found" : `a ${kindTitle(chosen!.kind)} connection`})</option>
        )}
        {offered.map((c) => (
          <option key={c.name} value={c.name}>{c.name}</option>
        ))}
      </select>
      <div className="connection-select-foot">
        {error ? <span className="field-error">Could not read your connections: {error}</span>
          : unknown ? <span className="field-error">You have no connection named “{value}”.</span> : null}
        <button type="button" className="link-btn" onClick={() => useConnections.getState().openPage(kind)}>
          New {kindTitle(kind)} connection…
        </button>
      </div>
    </div>
  );
}
