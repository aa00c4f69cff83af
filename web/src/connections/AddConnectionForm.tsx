// Save a new named connection: POST /api/connections. Its secret is sent once and never shown again.
import { useState, type FormEvent } from "react";
import { api, errorMessage } from "../api/client";
import { toast } from "../state/toasts";
import { Icon } from "../ui/Icon";
import { collect, KINDS, missing, NAME_PATTERN, type HeaderRow } from "./connectionKinds";
import { ConnectionFields } from "./SecretFields";

export function AddConnectionForm({ initialKind, taken, onAdded }: {
  initialKind?: string;
  taken: string[];
  onAdded: () => Promise<void>;
}) {
  const [kind, setKind] = useState(initialKind && KINDS[initialKind] ? initialKind : "postgresql");
  const [name, setName] = useState("");
  const [config, setConfig] = useState<Record<string, string>>({});
  const [secret, setSecret] = useState<Record<string, string>>({});
  const [headers, setHeaders] = useState<HeaderRow[]>([{ name: "", value: "" }]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const spec = KINDS[kind];

  const nameProblem = !name ? null : !NAME_PATTERN.test(name)
    ? "Lowercase letters, digits, '_' and '-', starting with a letter (at most 64)."
    : taken.includes(name) ? "You already have a connection with this name." : null;
  const empty = [...missing(spec.config, config), ...missing(spec.secret, secret)];

  const chooseKind = (next: string) => {
    setKind(next);
    setConfig({});
    setSecret({});
    setHeaders([{ name: "", value: "" }]);
    setError(null);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!name || nameProblem || empty.length) return;
    setBusy(true);
    setError(null);
    try {
      const answer = await api.POST("/api/connections", {
        body: { name, kind, config: collect(spec.config, config, headers), secret: collect(spec.secret, secret, headers) },
      });
      if (!answer.response.ok) throw new Error(errorMessage(answer.error));
      toast.success(`Connection ${name} saved.`);
      setName("");
      setConfig({});
      setSecret({});
      setHeaders([{ name: "", value: "" }]);
      await onAdded();
    } catch (e) {
      setError(`Could not save the connection: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card conn-add" aria-label="Add a connection" onSubmit={(e) => void submit(e)} autoComplete="off">
      <div className="card-head"><h3>Add a connection</h3></div>
      <div className="conn-field">
        <label htmlFor="connection-kind">Kind</label>
        <select id="connection-kind" className="select" value={kind} onChange={(e) => chooseKind(e.target.value)}>
          {Object.entries(KINDS).map(([value, k]) => <option key={value} value={value}>{k.title}</option>)}
        </select>
        <p className="field-help">{spec.description}</p>
      </div>
      <div className="conn-field">
        <label htmlFor="connection-name">Name<span className="required" aria-hidden> *</span></label>
        <input id="connection-name" className={`input ${nameProblem ? "invalid" : ""}`} value={name} maxLength={64}
          spellCheck={false} placeholder={kind === "postgresql" ? "warehouse" : `my_${kind}`}
          aria-invalid={!!nameProblem || undefined} onChange={(e) => setName(e.target.value.trim())} />
        {nameProblem ? <p className="field-error">{nameProblem}</p>
          : <p className="field-help">What nodes name in their Connection parameter.</p>}
      </div>
      <ConnectionFields idPrefix="connection-config" fields={spec.config} values={config} onValues={setConfig}
        headers={headers} onHeaders={setHeaders} />
      <ConnectionFields idPrefix="connection-secret" fields={spec.secret} values={secret} onValues={setSecret}
        headers={headers} onHeaders={setHeaders} />
      <p className="field-help conn-secret-note">
        <Icon name="alert" size={12} /> Secret values are stored encrypted and never shown again; you can replace them.
      </p>
      {error && <p className="form-error" role="alert"><Icon name="alert" size={14} /> {error}</p>}
      <button type="submit" className="btn btn-primary" disabled={busy || !name || !!nameProblem || empty.length > 0}
        title={empty.length ? `Fill in: ${empty.join(", ")}` : undefined}>
        {busy && <span className="spinner" />} Save connection
      </button>
    </form>
  );
}
