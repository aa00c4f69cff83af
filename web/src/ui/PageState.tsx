// What a list page shows before its list: a failure to read it, loading, or nothing yet.
import type { ReactNode } from "react";
import { Icon, type IconName } from "./Icon";

export function LoadFailed({ what, error }: { what: string; error: string }) {
  return (
    <div className="models-error" role="alert">
      <Icon name="alert" size={16} />
      <div>
        <strong>{what}</strong>
        <p>{error}</p>
      </div>
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="models-loading"><span className="spinner" /> Loading {what}…</p>;
}

export function EmptyState({ icon, title, className = "", children }:
  { icon: IconName; title: string; className?: string; children: ReactNode }) {
  return (
    <div className={`models-empty ${className}`.trim()}>
      <Icon name={icon} size={32} />
      <h2>{title}</h2>
      {children}
    </div>
  );
}
