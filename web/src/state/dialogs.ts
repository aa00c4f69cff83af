// Which dialog of the editor is open (only one at a time).
import { create } from "zustand";

export type DialogName = "open" | "templates" | "history" | "shortcuts" | "describe";

export const useDialogs = create<{ open: DialogName | null; show: (name: DialogName) => void; close: () => void }>()(
  (set) => ({
    open: null,
    show: (open) => set({ open }),
    close: () => set({ open: null }),
  }),
);
