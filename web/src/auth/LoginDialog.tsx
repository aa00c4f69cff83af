// Sign-in for multi-user mode; the token is kept in localStorage by the API client.
import { useState, type FormEvent } from "react";
import { api, errorMessage, setToken, unwrap } from "../api/client";
import { Modal } from "../ui/Modal";

export function LoginDialog({ onDone }: { onDone: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const token = unwrap(await api.POST("/api/auth/login", { body: { email, password } }));
      setToken(token.access_token);
      onDone();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title="Sign in to Flowza" onClose={() => undefined} width={380}>
      <form className="login-form" onSubmit={submit}>
        <div className="field">
          <label htmlFor="login-email">Email</label>
          <input id="login-email" className="input" type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="login-password">Password</label>
          <input id="login-password" className="input" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </div>
        {error && <p className="field-error" role="alert">{error}</p>}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy && <span className="spinner" />} Sign in
        </button>
      </form>
    </Modal>
  );
}
