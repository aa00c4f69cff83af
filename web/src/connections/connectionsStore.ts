// The user's named connections, loaded once and shared by the Connections page and the parameter pickers;
// and whether the Connections page is open (a picker's "add one" link opens it on a kind).
import { create } from "zustand";
import { api, errorMessage, unwrap } from "../api/client";
import type { Connection } from "./connectionKinds";

type ConnectionsState = {
  connections: Connection[] | null;
  error: string | null;
  /** The Connections page, when open: the kind its add form starts on. */
  page: { kind?: string } | null;
  load: () => Promise<void>;
  openPage: (kind?: string) => void;
  closePage: () => void;
};

let loading: Promise<void> | null = null;

export const useConnections = create<ConnectionsState>()((set) => ({
  connections: null,
  error: null,
  page: null,
  load() {
    loading ??= (async () => {
      try {
        const found = unwrap(await api.GET("/api/connections"));
        set({ connections: [...found].sort((a, b) => a.name.localeCompare(b.name)), error: null });
      } catch (e) {
        set({ error: errorMessage(e) });
      } finally {
        loading = null;
      }
    })();
    return loading;
  },
  openPage: (kind) => set({ page: { kind } }),
  closePage: () => set({ page: null }),
}));
