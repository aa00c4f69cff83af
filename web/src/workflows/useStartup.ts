// Start-up: the catalog, the signed-in user (multi-user mode), and the workflow named in the URL.
import { useEffect, useState } from "react";
import { api, getToken } from "../api/client";
import { useEditor } from "../state/editor";
import { locationWorkflow, openWorkflow } from "./workflowActions";

export function useStartup(): { needsLogin: boolean; loggedIn: () => void } {
  const [needsLogin, setNeedsLogin] = useState(false);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    let stale = false;
    (async () => {
      const me = await api.GET("/api/auth/me").catch(() => null);
      if (stale) return;
      if (me?.data?.auth_enabled && (!me.data.user || !getToken())) {
        setNeedsLogin(true);
        return;
      }
      setReady(true);
    })();
    return () => {
      stale = true;
    };
  }, []);

  useEffect(() => {
    if (!ready) return;
    (async () => {
      await useEditor.getState().loadCatalog();
      const id = locationWorkflow();
      if (id) await openWorkflow(id, false);
    })();
  }, [ready]);

  return {
    needsLogin,
    loggedIn: () => {
      setNeedsLogin(false);
      setReady(true);
    },
  };
}
