// Collapsing a side panel (palette, inspector) to a thin rail, and opening it again from the rail.
import { usePanels, type SidePanel } from "../state/panels";
import { Icon } from "./Icon";

const NAMES: Record<SidePanel, string> = { palette: "node palette", inspector: "inspector" };

/** The button inside an open panel that collapses it. */
export function CollapsePanelButton({ panel }: { panel: SidePanel }) {
  const toggle = usePanels((s) => s.toggle);
  return (
    <button
      type="button"
      className={`icon-btn panel-collapse panel-collapse-${panel}`}
      aria-label={`Hide the ${NAMES[panel]}`}
      title={`Hide the ${NAMES[panel]} to give the canvas room`}
      onClick={() => toggle(panel)}
    >
      <Icon name={panel === "palette" ? "panelLeft" : "panelRight"} size={15} />
    </button>
  );
}

/** What a collapsed panel leaves: a rail with its name; a click opens the panel again. */
export function PanelRail({ panel, label }: { panel: SidePanel; label: string }) {
  const toggle = usePanels((s) => s.toggle);
  return (
    <aside className={`panel-rail panel-rail-${panel}`} aria-label={label}>
      <button type="button" className="panel-rail-btn" aria-label={`Show the ${NAMES[panel]}`} onClick={() => toggle(panel)}>
        <Icon name={panel === "palette" ? "chevronRight" : "chevronLeft"} size={14} />
        <span className="panel-rail-text">{label}</span>
      </button>
    </aside>
  );
}
