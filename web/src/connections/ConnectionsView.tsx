// The Connections page: the user's named database URLs, S3 credentials and API keys, which nodes refer to by
// name. Secrets go in here and never come back out.
import { useEffect } from "react";
import { RunIcon } from "../runs/RunIcon";
import { EmptyState, LoadFailed, Loading } from "../ui/PageState";
import { Icon } from "../ui/Icon";
import { AddConnectionForm } from "./AddConnectionForm";
import { ConnectionList } from "./ConnectionList";
import { useConnections } from "./connectionsStore";
import "../models/models.css";
import "./connections.css";

export function ConnectionsView({ initialKind, onClose }: { initialKind?: string; onClose: () => void }) {
  const connections = useConnections((s) => s.connections);
  const error = useConnections((s) => s.error);
  const load = useConnections((s) => s.load);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    // Escape in a confirmation dialog closes that dialog only.
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && !document.querySelector(".modal") && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  return (
    <div className="models-view connections-view">
      <header className="models-header">
        <Icon name="link" size={20} />
        <div className="models-heading">
          <h1>Connections</h1>
          <p>Databases, buckets and APIs your nodes use, saved once under a name. Secrets are stored encrypted and never shown.</p>
        </div>
        <button type="button" className="btn btn-ghost" onClick={() => void load()}>
          <RunIcon name="refresh" size={14} /> Refresh
        </button>
        <button type="button" className="btn" onClick={onClose}>
          <Icon name="close" size={14} /> Close
        </button>
      </header>
      <div className="conn-body">
        <div className="conn-main">
          {error ? (
            <LoadFailed what="The connections could not be read." error={error} />
          ) : connections === null ? (
            <Loading what="connections" />
          ) : connections.length === 0 ? (
            <EmptyState icon="link" title="No connections yet" className="conn-empty">
              <p>Add one on the right, then pick it in a node's Connection parameter (SQL query, Database write, HTTP request).</p>
            </EmptyState>
          ) : (
            <ConnectionList connections={connections} onChanged={load} />
          )}
        </div>
        <AddConnectionForm initialKind={initialKind} taken={(connections ?? []).map((c) => c.name)} onAdded={load} />
      </div>
    </div>
  );
}
