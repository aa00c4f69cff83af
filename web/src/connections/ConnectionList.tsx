// The user's connections: name, kind, public settings and which secret values are set (never the values);
// replace a secret, or delete after a confirmation.
import { useState, type FormEvent } from "react";
import { api, errorMessage } from "../api/client";
import { toast } from "../state/toasts";
import { Icon } from "../ui/Icon";
import { Modal } from "../ui/Modal";
import { timeAgo } from "../workflows/timeAgo";
import { collect, KINDS, kindTitle, missing, type Connection, type HeaderRow } from "./connectionKinds";
import { ConnectionFields } from "./SecretFields";

export function ConnectionList({ connections, onChanged }: { connections: Connection[]; onChanged: () => Promise<void> }) {
  const [replacing, setReplacing] = useState<Connection | null>(null);
  const [deleting, setDeleting] = useState<Connection | null>(null);
  return (
    <section className="card conn-list" aria-label="Your connections">
      <div className="card-head"><h3>Your connections</h3><span className="muted">{connections.length}</span></div>
      <div className="conn-scroll">
        <table className="conn-table">
          <thead>
            <tr><th>Name</th><th>Kind</th><th>Settings</th><th>Secret</th><th>Updated</th><th aria-label="Actions" /></tr>
          </thead>
          <tbody>
            {connections.map((c) => (
              <tr key={c.name} data-testid={`connection-row-${c.name}`}>
                <td className="conn-name">{c.name}</td>
                <td><span className={`conn-kind kind-${c.kind}`}>{kindTitle(c.kind)}</span></td>
                <td className="conn-config">
                  {Object.keys(c.config).length === 0 ? <span className="muted">—</span>
                    : Object.entries(c.config).map(([k, v]) => (
                      <div key={k}><span className="muted">{k}</span> {typeof v === "string" ? v : JSON.stringify(v)}</div>
                    ))}
                </td>
                <td>
                  <span className="chip-row">
                    {c.secret_fields.map((f) => (
                      <span key={f} className="conn-set-chip" title="Set (the value is never shown)">
                        <Icon name="check" size={11} /> {f}
                      </span>
                    ))}
                  </span>
                </td>
                <td className="muted" title={c.updated_at}>{timeAgo(c.updated_at)}</td>
                <td className="conn-actions">
                  <button type="button" className="btn btn-ghost btn-sm" onClick={() => setReplacing(c)}
                    aria-label={`Replace the secret of ${c.name}`}>
                    <Icon name="edit" size={13} /> Replace secret
                  </button>
                  <button type="button" className="icon-btn" onClick={() => setDeleting(c)} aria-label={`Delete ${c.name}`}
                    title="Delete">
                    <Icon name="trash" size={15} />
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {replacing && (
        <ReplaceSecret connection={replacing} onClose={() => setReplacing(null)} onDone={onChanged} />
      )}
      {deleting && <ConfirmDelete connection={deleting} onClose={() => setDeleting(null)} onDone={onChanged} />}
    </section>
  );
}

function ReplaceSecret({ connection, onClose, onDone }: { connection: Connection; onClose: () => void; onDone: () => Promise<void> }) {
  const fields = KINDS[connection.kind]?.secret
    ?? connection.secret_fields.map((key) => ({ key, label: key, required: true, input: "password" as const }));
  const [values, setValues] = useState<Record<string, string>>({});
  const [headers, setHeaders] = useState<HeaderRow[]>([{ name: "", value: "" }]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const empty = missing(fields, values);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (empty.length) return;
    setBusy(true);
    setError(null);
    try {
      const answer = await api.PATCH("/api/connections/{name}", {
        params: { path: { name: connection.name } },
        body: { secret: collect(fields, values, headers) },
      });
      if (!answer.response.ok) throw new Error(errorMessage(answer.error));
      toast.success(`The secret of ${connection.name} was replaced.`);
      await onDone();
      onClose();
    } catch (e) {
      setError(`Could not replace the secret: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={`Replace the secret of ${connection.name}`} onClose={onClose} width={480}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="submit" form="replace-secret-form" className="btn btn-primary" disabled={busy || empty.length > 0}>
            {busy && <span className="spinner" />} Replace
          </button>
        </>
      }>
      <form id="replace-secret-form" className="conn-form" onSubmit={(e) => void submit(e)} autoComplete="off">
        <p className="muted">The new values replace the stored ones; the old ones are not shown.</p>
        <ConnectionFields idPrefix="replace-secret" fields={fields} values={values} onValues={setValues}
          headers={headers} onHeaders={setHeaders} />
        {error && <p className="form-error" role="alert"><Icon name="alert" size={14} /> {error}</p>}
      </form>
    </Modal>
  );
}

function ConfirmDelete({ connection, onClose, onDone }: { connection: Connection; onClose: () => void; onDone: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      const answer = await api.DELETE("/api/connections/{name}", { params: { path: { name: connection.name } } });
      if (!answer.response.ok) throw new Error(errorMessage(answer.error));
      toast.success(`Connection ${connection.name} deleted.`);
      await onDone();
      onClose();
    } catch (e) {
      setError(`Could not delete the connection: ${errorMessage(e)}`);
      setBusy(false);
    }
  };
  return (
    <Modal title={`Delete ${connection.name}?`} onClose={onClose} width={440}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void remove()}>
            {busy && <span className="spinner" />} Delete
          </button>
        </>
      }>
      <p>
        Nodes that name <strong>{connection.name}</strong> fail until a connection of that name is added again.
        Its secret is deleted; this cannot be undone.
      </p>
      {error && <p className="form-error" role="alert"><Icon name="alert" size={14} /> {error}</p>}
    </Modal>
  );
}
