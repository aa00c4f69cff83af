// Short messages in the corner: upload progress, saves, errors.
import { create } from "zustand";

export type Toast = { id: number; kind: "info" | "success" | "error"; text: string; progress?: number };

type ToastState = {
  toasts: Toast[];
  show: (kind: Toast["kind"], text: string, options?: { progress?: number; sticky?: boolean }) => number;
  update: (id: number, patch: Partial<Omit<Toast, "id">>, dismissAfterMs?: number) => void;
  dismiss: (id: number) => void;
};

let nextId = 1;

export const useToasts = create<ToastState>()((set, get) => ({
  toasts: [],
  show(kind, text, options) {
    const id = nextId++;
    set((s) => ({ toasts: [...s.toasts.slice(-3), { id, kind, text, progress: options?.progress }] }));
    if (!options?.sticky) setTimeout(() => get().dismiss(id), kind === "error" ? 8000 : 3500);
    return id;
  },
  update(id, patch, dismissAfterMs) {
    set((s) => ({ toasts: s.toasts.map((t) => (t.id === id ? { ...t, ...patch } : t)) }));
    if (dismissAfterMs) setTimeout(() => get().dismiss(id), dismissAfterMs);
  },
  dismiss: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
}));

export const toast = {
  info: (text: string) => useToasts.getState().show("info", text),
  success: (text: string) => useToasts.getState().show("success", text),
  error: (text: string) => useToasts.getState().show("error", text),
};
