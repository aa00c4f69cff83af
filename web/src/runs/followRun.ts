// Follow one run as it happens: the run's WebSocket, reconnecting once or twice if it drops, then polling
// `GET /api/runs/{id}` every second until the run ends.
import { api, unwrap, wsUrl } from "../api/client";
import { isFinished, type LogLine, type Run, type RunNode } from "./runTypes";

export type NodeEvent = { node_id: string } & Partial<RunNode>;
export type ProgressEvent = { done: number; total: number; percent: number };

export type RunListener = {
  /** The whole run (the socket's first message, or each poll). */
  snapshot: (run: Run) => void;
  node: (event: NodeEvent) => void;
  progress: (event: ProgressEvent) => void;
  /** New log lines (may repeat lines already seen). */
  log: (lines: LogLine[]) => void;
  /** The run ended (completed, failed or cancelled). */
  ended: (status: string) => void;
  /** How updates arrive now: "live" (socket), "polling", or "lost" (gave up: the run is not visible). */
  connection: (state: "live" | "polling" | "lost", detail?: string) => void;
};

const RECONNECTS = 2;
const POLL_MS = 1000;
const LOGS_EVERY_POLLS = 3;

type Event =
  | { type: "snapshot"; run: Run }
  | ({ type: "node" } & NodeEvent)
  | ({ type: "progress" } & ProgressEvent)
  | ({ type: "log" } & LogLine)
  | { type: "run"; status: string; error?: unknown };

/** Start following; returns a function that stops (closes the socket, stops polling). */
export function followRun(runId: string, on: RunListener): () => void {
  let stopped = false;
  let ended = false;
  let socket: WebSocket | null = null;
  let timer: number | undefined;
  let attempts = 0;

  const end = (status: string) => {
    if (ended) return;
    ended = true;
    on.ended(status);
  };

  const connect = () => {
    if (stopped) return;
    socket = new WebSocket(wsUrl(`/api/ws/runs/${encodeURIComponent(runId)}`));
    socket.onopen = () => on.connection("live");
    socket.onmessage = (message) => {
      let event: Event;
      try {
        event = JSON.parse(String(message.data)) as Event;
      } catch {
        return;
      }
      attempts = 0; // it works: a later drop may reconnect again
      if (event.type === "snapshot") on.snapshot(event.run);
      else if (event.type === "node") on.node(event);
      else if (event.type === "progress") on.progress(event);
      else if (event.type === "log") on.log([event]);
      else if (event.type === "run") end(event.status);
    };
    socket.onclose = (close) => {
      socket = null;
      if (stopped || ended) return;
      if (close.code === 4401 || close.code === 4404) {
        on.connection("lost", close.reason || "this run cannot be followed");
        return;
      }
      if (attempts < RECONNECTS) {
        attempts += 1;
        timer = window.setTimeout(connect, 1000 * attempts);
      } else {
        poll();
      }
    };
  };

  let polls = 0;
  const poll = async () => {
    if (stopped || ended) return;
    on.connection("polling");
    try {
      const path = { run_id: runId };
      const run = unwrap(await api.GET("/api/runs/{run_id}", { params: { path } })) as unknown as Run;
      if (stopped) return;
      on.snapshot(run);
      if (polls++ % LOGS_EVERY_POLLS === 0) {
        const lines = unwrap(await api.GET("/api/runs/{run_id}/logs", { params: { path } })) as unknown as LogLine[];
        if (!stopped) on.log(lines);
      }
      if (isFinished(run)) {
        end(run.status);
        return;
      }
    } catch {
      // the API is briefly unreachable: keep trying
    }
    timer = window.setTimeout(poll, POLL_MS);
  };

  connect();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
    const open = socket;
    socket = null;
    if (!open) return;
    open.onmessage = open.onclose = null;
    // Closing a socket still connecting makes the browser log an error: close it once it is open instead.
    if (open.readyState === WebSocket.CONNECTING) open.onopen = () => open.close(1000);
    else if (open.readyState === WebSocket.OPEN) open.close(1000);
  };
}
