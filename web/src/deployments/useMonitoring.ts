// A deployment's monitoring results and alerts: read every 30 s while the page is open, every 2 s while a run
// started here has not stored its result yet.
import { useState } from "react";
import { errorMessage } from "../api/client";
import { toast } from "../state/toasts";
import { deploymentsApi } from "./deploymentsApi";
import type { Monitoring } from "./deploymentTypes";
import { usePoll } from "./usePoll";

const IDLE_MS = 30_000;
const WAITING_MS = 2000;
const GIVE_UP_MS = 5 * 60_000;

type Waiting = { flowRunId: string; lastId: string | null; since: number };

export function useMonitoring(name: string) {
  const [data, setData] = useState<Monitoring | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [waiting, setWaiting] = useState<Waiting | null>(null);

  usePoll(async () => {
    try {
      const found = await deploymentsApi.monitoring(name);
      setData(found);
      setError(null);
      if (waiting && latestId(found) !== waiting.lastId) {
        setWaiting(null);
        toast.success("Monitoring finished: the charts show its result.");
      } else if (waiting && Date.now() - waiting.since > GIVE_UP_MS) {
        setWaiting(null);
        setError(`The monitoring run (Prefect flow run ${waiting.flowRunId}) has stored no result after 5 minutes: `
          + "see its log in Prefect, or run it again.");
      }
    } catch (e) {
      setError(errorMessage(e));
    }
  }, waiting ? WAITING_MS : IDLE_MS);

  const runNow = async () => {
    try {
      const { flow_run_id } = await deploymentsApi.runMonitoring(name);
      setError(null);
      setWaiting({ flowRunId: flow_run_id, lastId: data ? latestId(data) : null, since: Date.now() });
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  return { data, error, running: waiting !== null, runNow };
}

function latestId(monitoring: Monitoring): string | null {
  const last = monitoring.results[monitoring.results.length - 1];
  return last ? String(last.id) : null;
}
