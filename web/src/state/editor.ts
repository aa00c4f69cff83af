// The editor's state: the workflow being drawn, the catalog, selection, undo history, validation problems and
// the per-node run status that the run panel feeds in.
import {
  addEdge,
  applyEdgeChanges,
  applyNodeChanges,
  type Connection,
  type Edge,
  type EdgeChange,
  type Node,
  type NodeChange,
} from "@xyflow/react";
import { create } from "zustand";
import { api, unwrap } from "../api/client";
import type { NodeType, NodeWarning, Problem, WorkflowJson } from "../api/types";
import { restore, type Snapshot } from "./history";
import { pushApart } from "./overlaps";
import { resolveHandles } from "./handles";
import { defaultParameters } from "./parameters";
import { fixApplied } from "./warnings";

export type NodeRunStatus = {
  status: "queued" | "running" | "completed" | "failed" | "cached" | "cancelled" | "not_run";
  duration_s?: number;
  error?: string;
  warnings?: NodeWarning[];
};

export type FlowNodeData = { label: string; type: string; parameters: Record<string, unknown> };
export type FlowNode = Node<FlowNodeData, "flowza">;
export type FlowEdge = Edge;

let lastParameterEdit = { key: "", at: 0 };
const HISTORY_LIMIT = 50;

export type InspectorTab = "parameters" | "results";

export type EditorState = {
  catalog: Record<string, NodeType>;
  catalogError: string | null;
  loadCatalog: () => Promise<void>;

  workflowId: string | null;
  version: number | null;
  name: string;
  description: string;
  /** The workflow's other top-level fields (e.g. `runner`): the canvas does not edit them, saving keeps them. */
  extra: Record<string, unknown>;
  nodes: FlowNode[];
  edges: FlowEdge[];
  dirty: boolean;
  /** Bumped on every edit that can change validation (not on moves or selection). */
  revision: number;
  /** Bumped when the canvas should fit the view to the graph (a workflow was loaded). */
  fitRequest: number;

  selectedNodeId: string | null;
  select: (id: string | null) => void;
  inspectorTab: InspectorTab;
  setInspectorTab: (tab: InspectorTab) => void;
  runPanelOpen: boolean;
  setRunPanelOpen: (open: boolean) => void;

  setName: (name: string) => void;
  setDescription: (description: string) => void;
  onNodesChange: (changes: NodeChange<FlowNode>[]) => void;
  onEdgesChange: (changes: EdgeChange<FlowEdge>[]) => void;
  onConnect: (connection: Connection) => void;
  addNode: (type: string, position: { x: number; y: number }, init?: Partial<FlowNodeData>) => string;
  /** Change parameters; successive edits of the same field within a second make one undo step. */
  updateParameters: (id: string, patch: Record<string, unknown>) => void;
  setLabel: (id: string, label: string) => void;
  deleteSelected: () => void;
  duplicateSelected: () => void;
  setPositions: (positions: Record<string, { x: number; y: number }>) => void;

  past: Snapshot[];
  future: Snapshot[];
  /** Record the current graph before an edit, so undo returns to it. */
  checkpoint: () => void;
  undo: () => void;
  redo: () => void;

  problems: Problem[];
  problemsByNode: Record<string, Problem[]>;
  setProblems: (problems: Problem[]) => void;

  runStatus: Record<string, NodeRunStatus>;
  setRunStatus: (map: Record<string, NodeRunStatus>) => void;
  clearRunStatus: () => void;

  /** Warnings seen before running: on the sample the editor previews, or when a CSV was uploaded. */
  sampleWarnings: Record<string, NodeWarning[]>;
  /** Replace the sample warnings of `nodeIds` with those of `warnings` that name them. */
  setSampleWarnings: (nodeIds: string[], warnings: (NodeWarning & { node_id: string })[]) => void;

  toWorkflowJson: () => WorkflowJson;
  load: (workflow: WorkflowJson, id?: string | null, version?: number | null) => void;
  newWorkflow: () => void;
  save: () => Promise<string>;
};

function uniqueId(type: string, taken: Set<string>): string {
  for (let n = 1; ; n++) {
    const id = `${type}_${n}`;
    if (!taken.has(id)) return id;
  }
}

function labelOf(type: string): string {
  return type.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

function groupProblems(problems: Problem[]): Record<string, Problem[]> {
  const byNode: Record<string, Problem[]> = {};
  for (const p of problems) if (p.node_id) (byNode[p.node_id] ??= []).push(p);
  return byNode;
}

/** `map` without the entries of `ids` (what a removed node leaves behind, lest a new node reuse its id). */
function without<T>(map: Record<string, T>, ids: Iterable<string>): Record<string, T> {
  const next = { ...map };
  for (const id of ids) delete next[id];
  return next;
}

function edgeId(c: Connection | FlowEdge): string {
  return `${c.source}.${c.sourceHandle ?? ""}->${c.target}.${c.targetHandle ?? ""}`;
}

export const useEditor = create<EditorState>()((set, get) => {
  /** Apply a graph edit: it makes the workflow dirty and, unless it only moves things, re-validates. */
  const edit = (patch: Partial<EditorState>, structural = true) =>
    set((s) => ({ ...patch, dirty: true, revision: structural ? s.revision + 1 : s.revision }));

  return {
    catalog: {},
    catalogError: null,
    async loadCatalog() {
      try {
        const groups = unwrap(await api.GET("/api/tasks/available")) as unknown as Record<string, NodeType[]>;
        const catalog: Record<string, NodeType> = {};
        for (const entries of Object.values(groups)) for (const entry of entries) catalog[entry.type] = entry;
        set({ catalog, catalogError: null });
      } catch (error) {
        set({ catalogError: String(error instanceof Error ? error.message : error) });
      }
    },

    workflowId: null,
    version: null,
    name: "Untitled workflow",
    description: "",
    extra: {},
    nodes: [],
    edges: [],
    dirty: false,
    revision: 0,
    fitRequest: 0,

    selectedNodeId: null,
    select(id) {
      set((s) => ({
        selectedNodeId: id,
        nodes: s.nodes.map((n) => (n.selected === (n.id === id) ? n : { ...n, selected: n.id === id })),
      }));
    },
    inspectorTab: "parameters",
    setInspectorTab: (inspectorTab) => set({ inspectorTab }),
    runPanelOpen: false,
    setRunPanelOpen: (runPanelOpen) => set({ runPanelOpen }),

    setName(name) {
      edit({ name }, false);
    },
    setDescription(description) {
      edit({ description }, false);
    },

    onNodesChange(changes) {
      const s = get();
      const removes = changes.some((c) => c.type === "remove");
      const moves = changes.some((c) => c.type === "position");
      if (removes) s.checkpoint();
      let nodes = applyNodeChanges(changes, s.nodes);
      // A node that grew (a status pill, a warning, a longer label) pushes the nodes it now covers down.
      const grown = changes.flatMap((c) => {
        if (c.type !== "dimensions" || !c.dimensions) return [];
        const before = s.nodes.find((n) => n.id === c.id)?.measured;
        return before?.height != null && c.dimensions.height > before.height + 0.5 ? [c.id] : [];
      });
      if (grown.length) nodes = pushApart(nodes, grown);
      let selectedNodeId = s.selectedNodeId;
      for (const c of changes) {
        if (c.type === "select" && c.selected) selectedNodeId = c.id;
        if (c.type === "select" && !c.selected && selectedNodeId === c.id) selectedNodeId = null;
        if (c.type === "remove" && selectedNodeId === c.id) selectedNodeId = null;
      }
      if (removes) {
        const gone = changes.flatMap((c) => (c.type === "remove" ? [c.id] : []));
        edit({ nodes, selectedNodeId, sampleWarnings: without(s.sampleWarnings, gone) });
      } else if (moves) edit({ nodes, selectedNodeId }, false);
      else set({ nodes, selectedNodeId });
    },

    onEdgesChange(changes) {
      const s = get();
      const removes = changes.some((c) => c.type === "remove");
      if (removes) s.checkpoint();
      const edges = applyEdgeChanges(changes, s.edges);
      if (removes) edit({ edges });
      else set({ edges });
    },

    onConnect(connection) {
      const s = get();
      s.checkpoint();
      edit({ edges: addEdge({ ...connection, id: edgeId(connection) }, s.edges) });
    },

    addNode(type, position, init) {
      const s = get();
      s.checkpoint();
      const id = uniqueId(type, new Set(s.nodes.map((n) => n.id)));
      const entry = s.catalog[type];
      const node: FlowNode = {
        id,
        type: "flowza",
        position,
        selected: true,
        data: {
          type,
          label: init?.label ?? labelOf(type),
          parameters: { ...(entry ? defaultParameters(entry.parameters) : {}), ...(init?.parameters ?? {}) },
        },
      };
      edit({
        nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), node],
        selectedNodeId: id,
      });
      return id;
    },

    updateParameters(id, patch) {
      const s = get();
      const key = `${id}:${Object.keys(patch).join(",")}`;
      const now = Date.now();
      if (key !== lastParameterEdit.key || now - lastParameterEdit.at > 1000) s.checkpoint();
      lastParameterEdit = { key, at: now };
      edit({
        nodes: s.nodes.map((n) =>
          n.id === id ? { ...n, data: { ...n.data, parameters: { ...n.data.parameters, ...patch } } } : n,
        ),
      });
    },

    setLabel(id, label) {
      const s = get();
      s.checkpoint();
      edit({ nodes: s.nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, label } } : n)) }, false);
    },

    deleteSelected() {
      const s = get();
      const gone = new Set(s.nodes.filter((n) => n.selected).map((n) => n.id));
      const edgesGone = s.edges.filter((e) => e.selected || gone.has(e.source) || gone.has(e.target));
      if (!gone.size && !edgesGone.length) return;
      s.checkpoint();
      const dropped = new Set(edgesGone.map((e) => e.id));
      edit({
        nodes: s.nodes.filter((n) => !gone.has(n.id)),
        sampleWarnings: without(s.sampleWarnings, gone),
        edges: s.edges.filter((e) => !dropped.has(e.id)),
        selectedNodeId: s.selectedNodeId && gone.has(s.selectedNodeId) ? null : s.selectedNodeId,
      });
    },

    duplicateSelected() {
      const s = get();
      const chosen = s.nodes.filter((n) => n.selected);
      if (!chosen.length) return;
      s.checkpoint();
      const taken = new Set(s.nodes.map((n) => n.id));
      const renamed = new Map<string, string>();
      const copies = chosen.map((n) => {
        const id = uniqueId(n.data.type, taken);
        taken.add(id);
        renamed.set(n.id, id);
        return {
          ...n,
          id,
          selected: true,
          position: { x: n.position.x + 40, y: n.position.y + 60 },
          data: { ...n.data, parameters: structuredClone(n.data.parameters) },
        };
      });
      // Edges between duplicated nodes are duplicated too; edges from outside are not.
      const innerEdges = s.edges
        .filter((e) => renamed.has(e.source) && renamed.has(e.target))
        .map((e) => {
          const copy = { ...e, source: renamed.get(e.source)!, target: renamed.get(e.target)!, selected: false };
          return { ...copy, id: edgeId(copy) };
        });
      edit({
        nodes: [...s.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)), ...copies],
        edges: [...s.edges, ...innerEdges],
        selectedNodeId: copies.length === 1 ? copies[0].id : null,
      });
    },

    setPositions(positions) {
      const s = get();
      s.checkpoint();
      edit({ nodes: s.nodes.map((n) => (positions[n.id] ? { ...n, position: positions[n.id] } : n)) }, false);
    },

    past: [],
    future: [],
    checkpoint() {
      const { nodes, edges, past } = get();
      set({ past: [...past.slice(-(HISTORY_LIMIT - 1)), { nodes, edges }], future: [] });
    },
    undo() {
      const { past, future, nodes, edges } = get();
      const previous = past[past.length - 1];
      if (!previous) return;
      edit({ ...restore(previous, get()), past: past.slice(0, -1), future: [{ nodes, edges }, ...future] });
    },
    redo() {
      const { past, future, nodes, edges } = get();
      const next = future[0];
      if (!next) return;
      edit({ ...restore(next, get()), past: [...past, { nodes, edges }], future: future.slice(1) });
    },

    problems: [],
    problemsByNode: {},
    setProblems: (problems) => set({ problems, problemsByNode: groupProblems(problems) }),

    runStatus: {},
    setRunStatus: (map) => set((s) => ({ runStatus: { ...s.runStatus, ...map } })),
    clearRunStatus: () => set({ runStatus: {} }),

    sampleWarnings: {},
    setSampleWarnings(nodeIds, warnings) {
      set((s) => {
        const next = { ...s.sampleWarnings };
        for (const id of nodeIds) {
          // A warning whose fix the node took is kept (hidden): undoing the fix brings it back.
          const parameters = s.nodes.find((n) => n.id === id)?.data.parameters ?? {};
          const settled = (s.sampleWarnings[id] ?? []).filter((w) => fixApplied(w, parameters));
          const heard = warnings.filter((w) => w.node_id === id).map(({ node_id: _, ...w }) => w);
          const mine = [...new Map([...heard, ...settled].map((w) => [`${w.code}|${w.message}`, w])).values()];
          if (mine.length) next[id] = mine;
          else delete next[id];
        }
        return { sampleWarnings: next };
      });
    },

    toWorkflowJson() {
      const { name, description, extra, nodes, edges } = get();
      return {
        ...extra,
        name: name.trim() || "Untitled workflow",
        description: description || null,
        nodes: nodes.map((n) => ({
          id: n.id,
          type: n.data.type,
          position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
          data: { label: n.data.label },
          parameters: Object.fromEntries(Object.entries(n.data.parameters).filter(([, v]) => v !== undefined)),
        })),
        connections: edges.map((e) => ({
          source: e.source,
          target: e.target,
          sourceHandle: e.sourceHandle ?? null,
          targetHandle: e.targetHandle ?? null,
        })),
      };
    },

    load(workflow, id = null, version = null) {
      const catalog = get().catalog;
      const nodes: FlowNode[] = (workflow.nodes ?? []).map((n) => ({
        id: n.id,
        type: "flowza",
        position: n.position ?? { x: 0, y: 0 }, // nodes without a place overlap, so the canvas lays them out
        data: {
          type: n.type,
          label: (n.data?.label as string | undefined) ?? labelOf(n.type),
          parameters: {
            ...(catalog[n.type] ? defaultParameters(catalog[n.type].parameters) : {}),
            ...(n.parameters ?? {}),
          },
        },
      }));
      const raw = workflow.connections ?? (workflow as unknown as { edges?: WorkflowJson["connections"] }).edges ?? [];
      const typeOf = (id: string) => catalog[nodes.find((n) => n.id === id)?.data.type ?? ""];
      const edges: FlowEdge[] = raw.map((c) => {
        const handles = resolveHandles(c, typeOf);
        const edge = { source: c.source, target: c.target, ...handles };
        return { ...edge, id: edgeId(edge as FlowEdge) };
      });
      const extra: Record<string, unknown> = { ...workflow };
      for (const key of ["name", "description", "nodes", "connections", "edges", "id", "version"]) delete extra[key];
      set((s) => ({
        workflowId: id,
        version,
        name: workflow.name ?? "Untitled workflow",
        description: workflow.description ?? "",
        extra,
        nodes,
        edges,
        dirty: false,
        revision: s.revision + 1,
        fitRequest: s.fitRequest + 1,
        selectedNodeId: null,
        past: [],
        future: [],
        problems: [],
        problemsByNode: {},
        runStatus: {},
        sampleWarnings: {},
      }));
    },

    newWorkflow() {
      get().load({ name: "Untitled workflow", nodes: [], connections: [] });
    },

    async save() {
      const s = get();
      const body = s.toWorkflowJson() as never;
      const saved = s.workflowId
        ? unwrap(await api.PUT("/api/workflows/{workflow_id}", { params: { path: { workflow_id: s.workflowId } }, body }))
        : unwrap(await api.POST("/api/workflows/", { body }));
      set({ workflowId: saved.id, version: saved.current_version, dirty: false });
      return saved.id;
    },
  };
});
