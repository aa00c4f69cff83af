// The caret next to Run: run reusing unchanged results, or recompute every node.
import { useMenu } from "../ui/useMenu";
import { RunIcon } from "./RunIcon";

export function RunMenu({ disabled, onRun }: { disabled: boolean; onRun: (useCache: boolean) => void }) {
  const { open, setOpen, box } = useMenu();

  const choose = (useCache: boolean) => {
    setOpen(false);
    onRun(useCache);
  };

  return (
    <div className="run-menu-anchor" ref={box}>
      <button
        type="button"
        className="btn btn-primary split-caret"
        aria-label="More ways to run"
        aria-haspopup="menu"
        aria-expanded={open}
        disabled={disabled}
        onClick={() => setOpen(!open)}
      >
        <RunIcon name="caret" size={14} />
      </button>
      {open && (
        <div className="run-menu" role="menu" aria-label="Run options">
          <button type="button" role="menuitem" className="run-menu-item" onClick={() => choose(true)}>
            <span className="run-menu-title">Run</span>
            <span className="run-menu-hint">Reuse results of unchanged nodes · Ctrl+Enter</span>
          </button>
          <button type="button" role="menuitem" className="run-menu-item" onClick={() => choose(false)}>
            <span className="run-menu-title">Run without cache</span>
            <span className="run-menu-hint">Recompute every node · Ctrl+Shift+Enter</span>
          </button>
        </div>
      )}
    </div>
  );
}
