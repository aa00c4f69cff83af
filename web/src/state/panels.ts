// Which side panels are open. Collapsing the palette or the inspector gives the canvas their width;
// the choice is remembered in this browser.
import { create } from "zustand";

export type SidePanel = "palette" | "inspector";
type Open = Record<SidePanel, boolean>;

const KEY = "flowza.panels";

function remembered(): Open {
  try {
    return { palette: true, inspector: true, ...JSON.parse(localStorage.getItem(KEY) ?? "{}") };
  } catch {
    return { palette: true, inspector: true };
  }
}

export const usePanels = create<Open & { toggle: (panel: SidePanel) => void }>()((set, get) => ({
  ...remembered(),
  toggle(panel) {
    const open = { palette: get().palette, inspector: get().inspector, [panel]: !get()[panel] };
    localStorage.setItem(KEY, JSON.stringify(open));
    set(open);
  },
}));
