// The rows of an evaluate node's predictions table, for the ROC curve and the residuals plot.
import { useEffect, useState } from "react";
import { errorMessage } from "../api/client";
import { fetchRows } from "./resultsApi";

const MAX_ROWS = 10_000;

export function usePredictions(runId: string, nodeId: string, port: string | undefined) {
  const [rows, setRows] = useState<Record<string, unknown>[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!port) return;
    let stale = false;
    setRows(null);
    fetchRows(runId, nodeId, port, MAX_ROWS)
      .then((page) => !stale && setRows(page.rows))
      .catch((e) => !stale && setError(errorMessage(e)));
    return () => {
      stale = true;
    };
  }, [runId, nodeId, port]);
  return { rows, error };
}
