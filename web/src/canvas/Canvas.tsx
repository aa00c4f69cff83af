// The workflow canvas: React Flow with Flowza's nodes, drag-and-drop from the palette, CSV drops,
// typed connections and the canvas toolbar.
import {
  Background,
  BackgroundVariant,
  type Connection,
  Controls,
  type Edge,
  MiniMap,
  ReactFlow,
  useNodesInitialized,
  useReactFlow,
} from "@xyflow/react";
import { useCallback, useEffect, useState, type DragEvent } from "react";
import { useEditor, type FlowNode } from "../state/editor";
import { toast } from "../state/toasts";
import { CanvasToolbar } from "./CanvasToolbar";
import { categoryLook } from "./categories";
import { connectionProblem } from "./connections";
import { EmptyCanvas } from "./EmptyCanvas";
import { FlowzaNode } from "./FlowzaNode";
import { PALETTE_MIME } from "./PaletteItem";
import { uploadCsvAsNode } from "./uploadCsv";
import { useCanvasActions } from "./useCanvasActions";
import { useCanvasShortcuts } from "./useCanvasShortcuts";
import "./canvas.css";

const NODE_TYPES = { flowza: FlowzaNode };
const DEFAULT_EDGE_OPTIONS = { interactionWidth: 16 };
const FIT_OPTIONS = { padding: 0.12, maxZoom: 1.1, minZoom: 0.3 };  // room for the toolbar and mini-map

export function Canvas() {
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  const onNodesChange = useEditor((s) => s.onNodesChange);
  const onEdgesChange = useEditor((s) => s.onEdgesChange);
  const onConnect = useEditor((s) => s.onConnect);
  const fitRequest = useEditor((s) => s.fitRequest);
  const { screenToFlowPosition, fitView } = useReactFlow();
  const measured = useNodesInitialized();
  const [dropping, setDropping] = useState(false);
  const [pendingFit, setPendingFit] = useState(0);
  const { layout } = useCanvasActions();
  useCanvasShortcuts();

  useEffect(() => setPendingFit(fitRequest), [fitRequest]);
  useEffect(() => {
    // A loaded workflow is fitted to the view once its nodes are measured; if its saved positions make
    // nodes overlap (hand-written JSON, templates drawn for other node sizes), it is laid out first.
    if (!pendingFit || !measured) return;
    setPendingFit(0);
    const { nodes } = useEditor.getState();
    if (overlapping(nodes)) layout(false);
    requestAnimationFrame(() => void fitView(FIT_OPTIONS));
  }, [pendingFit, measured, fitView, layout]);

  const isValidConnection = useCallback((connection: Connection | Edge) => {
    const s = useEditor.getState();
    return connectionProblem(connection, s.nodes, s.edges, s.catalog) === null;
  }, []);

  const onConnectEnd = useCallback((_: MouseEvent | TouchEvent, state: { isValid: boolean | null; fromHandle: unknown; toHandle: unknown }) => {
    // Explain a refused connection that was dropped on a port.
    const from = state.fromHandle as { nodeId: string; id?: string | null; type: string } | null;
    const to = state.toHandle as { nodeId: string; id?: string | null; type: string } | null;
    if (state.isValid || !from || !to) return;
    const [src, dst] = from.type === "source" ? [from, to] : [to, from];
    const s = useEditor.getState();
    const problem = connectionProblem(
      { source: src.nodeId, sourceHandle: src.id ?? null, target: dst.nodeId, targetHandle: dst.id ?? null },
      s.nodes,
      s.edges,
      s.catalog,
    );
    if (problem) toast.error(`Cannot connect: ${problem}`);
  }, []);

  const onDragOver = useCallback((event: DragEvent) => {
    const types = event.dataTransfer.types;
    if (!types.includes(PALETTE_MIME) && !types.includes("Files")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = types.includes("Files") ? "copy" : "move";
    setDropping(true);
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      event.preventDefault();
      setDropping(false);
      const position = screenToFlowPosition({ x: event.clientX, y: event.clientY });
      const type = event.dataTransfer.getData(PALETTE_MIME);
      if (type) {
        useEditor.getState().addNode(type, { x: position.x - 88, y: position.y - 30 });
        return;
      }
      Array.from(event.dataTransfer.files).forEach((file, i) => {
        void uploadCsvAsNode(file, { x: position.x - 88, y: position.y - 30 + i * 140 });
      });
    },
    [screenToFlowPosition],
  );

  const onNodeDragStart = useCallback(() => useEditor.getState().checkpoint(), []);

  return (
    <div
      className={`canvas ${dropping ? "dropping" : ""}`}
      onDragLeave={(e) => e.currentTarget === e.target && setDropping(false)}
    >
      <ReactFlow<FlowNode>
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onNodeDragStart={onNodeDragStart}
        onDrop={onDrop}
        onDragOver={onDragOver}
        defaultEdgeOptions={DEFAULT_EDGE_OPTIONS}
        deleteKeyCode={null}
        onlyRenderVisibleElements={nodes.length > 120}
        minZoom={0.15}
        maxZoom={2}
        snapToGrid
        snapGrid={[10, 10]}
        proOptions={{ hideAttribution: true }}
        fitView
        fitViewOptions={FIT_OPTIONS}
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#c8cdd6" />
        <Controls showInteractive={false} position="bottom-left" />
        {nodes.length >= 10 && (
          <MiniMap
            position="bottom-right"
            pannable
            zoomable
            nodeColor={(n) => categoryLook(useEditor.getState().catalog[(n as FlowNode).data.type]?.category ?? "").colour}
            nodeBorderRadius={4}
            maskColor="rgba(244, 245, 247, 0.7)"
            ariaLabel="Mini map"
            style={{ width: 168, height: 112 }}
          />
        )}
        <CanvasToolbar />
      </ReactFlow>
      {nodes.length === 0 && <EmptyCanvas />}
      {dropping && <div className="drop-hint">Drop to add</div>}
    </div>
  );
}

function overlapping(nodes: FlowNode[]): boolean {
  const boxes = nodes.map((n) => ({
    x: n.position.x,
    y: n.position.y,
    w: n.measured?.width ?? 176,
    h: n.measured?.height ?? 80,
  }));
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) return true;
    }
  }
  return false;
}
