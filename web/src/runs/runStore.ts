// The run shown in the editor (the one just started, or one picked from the history), its log lines, and the
// workflow's run history. Node states go to the editor's store, so the canvas colours each node as it runs.
import { create } from "zustand";
import { api, errorMessage, unwrap } from "../api/client";
import type { Problem } from "../api/types";
import { useEditor } from "../state/editor";
import { toast } from "../state/toasts";
import { setLocationWorkflow } from "../workflows/workflowActions";
import { followRun, type NodeEvent } from "./followRun";
import { problemsNotice, submitNotice, type Notice } from "./runNotices";
import { runStatusMap, toNodeRunStatus } from "./nodeStatus";
import { isFinished, runFailure, type LogLine, type Run } from "./runTypes";

export type PanelTab = "logs" | "runs" | "data";
export type TableView = { nodeId: string; port: string };

export type RunsState = {
  run: Run | null;
  /** The shown run is followed live (it was started here, or was still going when picked). */
  following: boolean;
  connection: "idle" | "live" | "polling" | "lost";
  logs: LogLine[];
  starting: boolean;
  cancelling: boolean;
  notice: Notice | null;
  history: Run[];
  historyLoading: boolean;
  historyError: string | null;
  panelTab: PanelTab;
  table: TableView | null;

  start: (useCache: boolean) => Promise<void>;
  cancel: () => Promise<void>;
  show: (runId: string) => Promise<void>;
  loadHistory: () => Promise<void>;
  setPanelTab: (tab: PanelTab) => void;
  /** Show a node's table in the run panel's Data tab. */
  openTable: (nodeId: string, port: string) => void;
  dismissNotice: () => void;
};

const MAX_LOG_LINES = 5000;
let stopFollowing: (() => void) | null = null;
/** Bumped whenever the shown run changes, so late answers about an older choice are dropped. */
let generation = 0;

const logKey = (l: LogLine) => `${l.timestamp}|${l.node_id ?? ""}|${l.message}`;

function mergeLogs(current: LogLine[], incoming: LogLine[]): LogLine[] {
  const seen = new Set(current.map(logKey));
  const fresh: LogLine[] = [];
  for (const line of incoming) {
    const key = logKey(line);
    if (seen.has(key)) continue;
    seen.add(key);
    fresh.push(line);
  }
  if (!fresh.length) return current;
  const merged = [...current, ...fresh];
  if (fresh.some((l, i) => (i ? fresh[i - 1] : current[current.length - 1])?.timestamp > l.timestamp)) {
    merged.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
  }
  return merged.slice(-MAX_LOG_LINES);
}

function paintCanvas(run: Run) {
  const editor = useEditor.getState();
  editor.clearRunStatus();
  editor.setRunStatus(runStatusMap(run));
}

async function fetchRun(runId: string): Promise<Run> {
  return unwrap(await api.GET("/api/runs/{run_id}", { params: { path: { run_id: runId } } })) as unknown as Run;
}

async function fetchLogs(runId: string): Promise<LogLine[]> {
  const lines = unwrap(await api.GET("/api/runs/{run_id}/logs", { params: { path: { run_id: runId } } }));
  return lines as unknown as LogLine[];
}

export const useRuns = create<RunsState>()((set, get) => {
  /** Show `run` and follow it until it ends. */
  const follow = (run: Run, announce: boolean) => {
    stopFollowing?.();
    const mine = ++generation;
    const runId = run.run_id;
    set({ run, following: true, connection: "idle", logs: [], cancelling: false });
    paintCanvas(run);
    fetchLogs(runId)
      .then((lines) => mine === generation && set((s) => ({ logs: mergeLogs(s.logs, lines) })))
      .catch(() => undefined);

    const patch = (update: (run: Run) => Run) =>
      set((s) => (mine === generation && s.run?.run_id === runId ? { run: update(s.run) } : {}));

    stopFollowing = followRun(runId, {
      snapshot(fresh) {
        if (mine !== generation) return;
        // A run not started yet has no node records: keep showing its nodes as queued.
        const merged = { ...fresh, nodes: { ...get().run?.nodes, ...fresh.nodes } };
        set({ run: merged });
        paintCanvas(merged);
      },
      node({ node_id, ...change }: NodeEvent) {
        if (mine !== generation) return;
        const clean = Object.fromEntries(Object.entries(change).filter(([k, v]) => v != null && k !== "type" && k !== "run_id"));
        patch((r) => ({ ...r, nodes: { ...r.nodes, [node_id]: { ...r.nodes[node_id], ...clean } } }));
        const node = get().run?.nodes[node_id];
        if (node) useEditor.getState().setRunStatus({ [node_id]: toNodeRunStatus(node) });
      },
      progress({ done, total, percent }) {
        patch((r) => ({ ...r, progress: { done, total, percent } }));
      },
      log(lines) {
        if (mine !== generation) return;
        const clean = lines.map(({ timestamp, level, node_id, message }) => ({ timestamp, level, node_id, message }));
        set((s) => ({ logs: mergeLogs(s.logs, clean) }));
      },
      async ended(status) {
        patch((r) => ({ ...r, status }));
        if (mine !== generation) return;
        // The final record (metrics, outputs, MLflow run) and every log line Prefect received.
        try {
          const [final, lines] = await Promise.all([fetchRun(runId), fetchLogs(runId).catch(() => [])]);
          if (mine !== generation) return;
          set((s) => ({ run: final, logs: mergeLogs(s.logs, lines) }));
          paintCanvas(final);
          if (announce) announceEnd(final);
        } catch {
          // the socket told us the outcome already
        }
        if (mine === generation) set({ following: false, cancelling: false, connection: "idle" });
        void get().loadHistory();
      },
      connection(state, detail) {
        if (mine !== generation) return;
        set({ connection: state });
        if (state === "lost") toast.error(`Live updates stopped: ${detail}`);
      },
    });
  };

  return {
    run: null,
    following: false,
    connection: "idle",
    logs: [],
    starting: false,
    cancelling: false,
    notice: null,
    history: [],
    historyLoading: false,
    historyError: null,
    panelTab: "logs",
    table: null,

    async start(useCache) {
      const { starting, run, following } = get();
      if (starting || (following && run && !isFinished(run))) return;
      const editor = useEditor.getState();
      if (!editor.nodes.length) {
        set({ notice: { title: "Nothing to run", items: [{ text: "Drag nodes from the palette onto the canvas first." }] } });
        return;
      }
      set({ starting: true, notice: null });
      try {
        let workflowId = editor.workflowId;
        if (!workflowId || editor.dirty) {
          try {
            workflowId = await editor.save();
            setLocationWorkflow(workflowId); // a reload reopens the workflow that ran
          } catch (error) {
            set({ notice: { title: "The workflow could not be saved", items: [{ text: errorMessage(error) }] } });
            return;
          }
        }
        // Checked first, so a workflow with problems gets them listed (and no failed request in the console).
        const check = await api.POST("/api/workflows/validate", { body: useEditor.getState().toWorkflowJson() as never });
        const problems = ((check.data as { problems?: Problem[] } | undefined)?.problems ?? []).filter((p) => p.severity === "error");
        if (problems.length) {
          set({ notice: problemsNotice(problems) });
          return;
        }
        const answer = await api.POST("/api/workflows/{workflow_id}/execute", {
          params: { path: { workflow_id: workflowId } },
          body: { use_cache: useCache },
        });
        if (!answer.response.ok || !answer.data) {
          set({ notice: submitNotice(answer.response, answer.error) });
          return;
        }
        const nodes = useEditor.getState().nodes;
        follow(
          {
            run_id: answer.data.run_id,
            workflow_id: workflowId,
            workflow_version: useEditor.getState().version ?? 0,
            status: answer.data.status,
            progress: { done: 0, total: nodes.length, percent: 0 },
            flow_run_id: answer.data.flow_run_id ?? null,
            created_at: new Date().toISOString(),
            started_at: null,
            finished_at: null,
            nodes: Object.fromEntries(nodes.map((n) => [n.id, { status: "pending", label: n.data.label, type: n.data.type }])),
          },
          true,
        );
        set({ panelTab: "logs" });
        useEditor.getState().setRunPanelOpen(true);
        void get().loadHistory();
      } catch (error) {
        set({ notice: { title: "The run could not start", items: [{ text: errorMessage(error) }] } });
      } finally {
        set({ starting: false });
      }
    },

    async cancel() {
      const run = get().run;
      if (!run || isFinished(run)) return;
      set({ cancelling: true });
      try {
        unwrap(await api.POST("/api/runs/{run_id}/cancel", { params: { path: { run_id: run.run_id } } }));
        toast.info("Cancelling: the run stops before its next node.");
      } catch (error) {
        set({ cancelling: false, notice: { title: "The run could not be cancelled", items: [{ text: errorMessage(error) }] } });
      }
    },

    async show(runId) {
      if (get().run?.run_id === runId) return;
      const mine = ++generation;
      try {
        const run = await fetchRun(runId);
        if (mine !== generation) return;
        if (!isFinished(run)) {
          follow(run, false);
          return;
        }
        stopFollowing?.();
        stopFollowing = null;
        set({ run, following: false, connection: "idle", logs: [], cancelling: false });
        paintCanvas(run);
        const lines = await fetchLogs(runId).catch(() => []);
        if (mine === generation) set({ logs: mergeLogs([], lines) });
      } catch (error) {
        toast.error(`Could not load the run: ${errorMessage(error)}`);
      }
    },

    async loadHistory() {
      const workflowId = useEditor.getState().workflowId;
      if (!workflowId) {
        set({ history: [], historyError: null });
        return;
      }
      set({ historyLoading: true });
      try {
        const runs = unwrap(await api.GET("/api/runs/", { params: { query: { workflow_id: workflowId, limit: 50 } } }));
        if (useEditor.getState().workflowId === workflowId) {
          set({ history: runs as unknown as Run[], historyError: null });
        }
      } catch (error) {
        set({ historyError: errorMessage(error) });
      } finally {
        set({ historyLoading: false });
      }
    },

    setPanelTab: (panelTab) => set({ panelTab }),
    openTable(nodeId, port) {
      set({ table: { nodeId, port }, panelTab: "data" });
      useEditor.getState().setRunPanelOpen(true);
    },
    dismissNotice: () => set({ notice: null }),
  };
});

function announceEnd(run: Run) {
  const took = run.started_at && run.finished_at
    ? ` in ${((Date.parse(run.finished_at) - Date.parse(run.started_at)) / 1000).toFixed(1)} s`
    : "";
  if (run.status === "completed") toast.success(`Run completed${took}.`);
  else if (run.status === "cancelled") toast.info("Run cancelled.");
  else if (run.status === "crashed") toast.error("Run crashed: its worker stopped. Rerun it to continue from its finished nodes.");
  else {
    const failure = runFailure(run);
    const node = failure?.nodeId ? useEditor.getState().nodes.find((n) => n.id === failure.nodeId) : undefined;
    const where = failure?.nodeId ? `${node?.data.label ?? run.nodes[failure.nodeId]?.label ?? failure.nodeId}: ` : "";
    toast.error(`Run failed${failure ? ` — ${where}${failure.message}` : ""}.`);
  }
}

/** A workflow was opened (or a new one started): forget the old run, show this workflow's latest. */
async function workflowLoaded(workflowId: string | null) {
  stopFollowing?.();
  stopFollowing = null;
  const mine = ++generation;
  useRuns.setState({
    run: null, following: false, connection: "idle", logs: [], notice: null, history: [], historyError: null,
    table: null, cancelling: false,
  });
  if (!workflowId) return;
  await useRuns.getState().loadHistory();
  const latest = useRuns.getState().history[0];
  if (latest && mine === generation && useEditor.getState().workflowId === workflowId) {
    await useRuns.getState().show(latest.run_id);
  }
}

useEditor.subscribe((state, previous) => {
  if (state.fitRequest !== previous.fitRequest) void workflowLoaded(state.workflowId);
});
