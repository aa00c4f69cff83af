// Point an alias at a version: PUT /api/models/{name}/aliases/{alias}.
import { useState, type FormEvent } from "react";
import { api, errorMessage } from "../api/client";
import { toast } from "../state/toasts";

const VALID = /^[A-Za-z0-9_-]{1,255}$/;

export function AliasForm({ name, versions, onSet }: { name: string; versions: number[]; onSet: () => Promise<void> }) {
  const [alias, setAlias] = useState("champion");
  const [version, setVersion] = useState(versions[0] ?? 1);
  const [busy, setBusy] = useState(false);
  const reserved = alias.toLowerCase() === "latest" || /^v\d+$/i.test(alias);
  const problem = !alias ? null : !VALID.test(alias) ? "Letters, digits, '_' and '-' only."
    : reserved ? "'latest' and 'v<number>' are reserved." : null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!alias || problem) return;
    setBusy(true);
    try {
      const answer = await api.PUT("/api/models/{name}/aliases/{alias}", {
        params: { path: { name, alias } },
        body: { version },
      });
      if (!answer.response.ok) throw new Error(errorMessage(answer.error));
      toast.success(`${alias} now points at version ${version}.`);
      await onSet();
    } catch (e) {
      toast.error(`Could not set the alias: ${errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="alias-form" onSubmit={(e) => void submit(e)}>
      <label htmlFor="alias-name">Alias</label>
      <input id="alias-name" className={`input ${problem ? "invalid" : ""}`} value={alias} maxLength={255}
        onChange={(e) => setAlias(e.target.value.trim())} placeholder="champion" aria-invalid={!!problem}
        aria-describedby={problem ? "alias-problem" : undefined} />
      <label htmlFor="alias-version">points at</label>
      <select id="alias-version" className="select" value={version} onChange={(e) => setVersion(Number(e.target.value))}>
        {versions.map((v) => <option key={v} value={v}>Version {v}</option>)}
      </select>
      <button type="submit" className="btn btn-primary" disabled={busy || !alias || !!problem}>
        {busy && <span className="spinner" />} Set alias
      </button>
      {problem && <span id="alias-problem" className="field-problem">{problem}</span>}
    </form>
  );
}
