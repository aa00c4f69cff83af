// Why the last Run or Cancel did not work, under the run controls; a problem naming a node selects it.
import { useEditor } from "../state/editor";
import { Icon } from "../ui/Icon";
import type { Notice } from "./runNotices";
import { useRuns } from "./runStore";

export function RunNotice({ notice }: { notice: Notice }) {
  const dismiss = useRuns((s) => s.dismissNotice);
  const select = useEditor((s) => s.select);
  const shown = notice.items.slice(0, 6);

  return (
    <div className="run-notice" role="alert" data-testid="run-error">
      <div className="run-notice-head">
        <Icon name="alert" size={15} />
        <strong>{notice.title}</strong>
        <button type="button" className="icon-btn" aria-label="Dismiss" onClick={dismiss}>
          <Icon name="close" size={14} />
        </button>
      </div>
      <ul className="run-notice-items">
        {shown.map((item, i) => (
          <li key={i}>
            {item.nodeId ? (
              <button type="button" className="text-btn" onClick={() => select(item.nodeId ?? null)}>
                {item.text}
              </button>
            ) : (
              item.text
            )}
          </li>
        ))}
        {notice.items.length > shown.length && <li className="muted">and {notice.items.length - shown.length} more…</li>}
      </ul>
    </div>
  );
}
