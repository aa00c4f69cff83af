// A titled, foldable block of the results; its body renders only while open.
import { useState, type ReactNode } from "react";

export function ResultSection({ title, note, defaultOpen = true, children }: {
  title: string;
  note?: ReactNode;
  defaultOpen?: boolean;
  children: ReactNode;
}) {
  const [open, setOpen] = useState(defaultOpen);
  return (
    <details className="result-section" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>
        <span className="result-section-title">{title}</span>
        {note && <span className="result-section-note">{note}</span>}
      </summary>
      {open && <div className="result-section-body">{children}</div>}
    </details>
  );
}
