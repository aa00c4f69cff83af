// The deployment's tokens: create one (its secret is shown once, here), list them without secrets, revoke.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import { errorMessage } from "../api/client";
import { formatWhen } from "../runs/format";
import { toast } from "../state/toasts";
import { Icon } from "../ui/Icon";
import { copyText } from "./copyText";
import { deploymentsApi } from "./deploymentsApi";
import type { DeploymentToken, NewToken } from "./deploymentTypes";

export function TokenPanel({ name, requests, created, onCreated }: {
  name: string;
  /** The deployment's request count: when it moves, "last used" may have too. */
  requests: number | undefined;
  created: NewToken | null;
  onCreated: (token: NewToken | null) => void;
}) {
  const [tokens, setTokens] = useState<DeploymentToken[] | null>(null);
  const [tokenName, setTokenName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setTokens(await deploymentsApi.tokens(name));
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [name]);

  useEffect(() => {
    void load();
  }, [load, requests]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      onCreated(await deploymentsApi.createToken(name, tokenName.trim() || "default"));
      setTokenName("");
      await load();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (token: DeploymentToken) => {
    try {
      await deploymentsApi.revokeToken(name, token.id);
      toast.success(`Token ${token.name} revoked: requests with it now get 401.`);
      if (created?.id === token.id) onCreated(null);
      await load();
    } catch (e) {
      toast.error(`Could not revoke ${token.name}: ${errorMessage(e)}`);
    }
  };

  return (
    <section className="card token-card" aria-label="Tokens">
      <div className="card-head"><h3>Tokens</h3><span className="muted">each request needs one: Authorization: Bearer &lt;token&gt;</span></div>
      {created && (
        <div className="new-token" role="status" aria-label="New token">
          <div className="new-token-warning">
            <Icon name="alert" size={15} />
            <strong>Copy this token now: it will not be shown again.</strong>
          </div>
          <div className="url-row">
            <code className="token-secret" data-testid="new-token">{created.token}</code>
            <button type="button" className="btn btn-sm" aria-label="Copy the token" onClick={() => void copyText(created.token, "token")}>
              <Icon name="copy" size={13} /> Copy
            </button>
            <button type="button" className="btn btn-sm btn-ghost" onClick={() => onCreated(null)}>Done</button>
          </div>
        </div>
      )}
      <form className="token-form" onSubmit={(e) => void create(e)}>
        <label htmlFor="token-name">Token name</label>
        <input id="token-name" className="input" value={tokenName} maxLength={100} placeholder="e.g. billing-service"
          onChange={(e) => setTokenName(e.target.value)} />
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? <span className="spinner" /> : <Icon name="plus" size={14} />} Create token
        </button>
      </form>
      {error && <p className="form-error" role="alert"><Icon name="alert" size={14} /> {error}</p>}
      {tokens === null ? (
        !error && <p className="models-loading"><span className="spinner" /> Loading tokens…</p>
      ) : tokens.length === 0 ? (
        <p className="muted empty-line">No tokens yet: create one, then send it with each request.</p>
      ) : (
        <table className="version-table token-table">
          <thead>
            <tr>
              <th scope="col">Name</th><th scope="col">Token</th><th scope="col">Created</th><th scope="col">Last used</th>
              <th scope="col"><span className="visually-hidden">Actions</span></th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={t.id} data-testid={`token-${t.id}`}>
                <td>{t.name}</td>
                <td className="mono">{t.prefix}…</td>
                <td title={t.created_at}>{formatWhen(t.created_at)}</td>
                <td title={t.last_used_at ?? undefined}>{t.last_used_at ? formatWhen(t.last_used_at) : "never"}</td>
                <td className="row-actions">
                  <button type="button" className="btn btn-sm btn-danger" aria-label={`Revoke token ${t.name}`}
                    onClick={() => void revoke(t)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
