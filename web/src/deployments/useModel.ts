// A registered model's versions and aliases (GET /api/models/{name}), for choosing what a deployment serves.
import { useEffect, useState } from "react";
import { api, errorMessage, unwrap } from "../api/client";
import type { ModelDetail } from "../models/modelTypes";

export function useModel(name: string | null): { model: ModelDetail | null; error: string | null } {
  const [model, setModel] = useState<ModelDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!name) return;
    let stale = false;
    setModel(null);
    setError(null);
    api.GET("/api/models/{name}", { params: { path: { name } } })
      .then(unwrap)
      .then((found) => !stale && setModel(found))
      .catch((e) => !stale && setError(errorMessage(e)));
    return () => {
      stale = true;
    };
  }, [name]);
  return { model, error };
}
