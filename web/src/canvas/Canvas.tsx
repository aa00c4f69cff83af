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
  useReactFlow,
} from "@xyflow/react";
import { useCallback, useEffect, useState, type DragEvent } from "react";
import { useEditor, type FlowNode } from "../state/editor";
import { GeneratedReview } from "../workflows/GeneratedReview";
import { overlapping } from "../state/overlaps";
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

export function Canvas() {
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  const onNodesChange = useEditor((s) => s.onNodesChange);
  const onEdgesChange = useEditor((s) => s.onEdgesChange);
  const onConnect = useEditor((s) => s.onConnect);
  const fitRequest = useEditor((s) => s.fitRequest);
  const { screenToFlowPosition } = useReactFlow();
  // From the editor's own nodes, not React Flow's flag: right after a load that flag still describes the
  // previous workflow's nodes, and the layout would use sizes nobody measured.
  const measured = useEditor((s) => s.nodes.every((n) => n.measured?.width && n.measured?.height));
  const [dropping, setDropping] = useState(false);
  const [fitted, setFitted] = useState(fitRequest); // the last fit request handled
  const pendingFit = fitRequest !== fitted;
  const { fitReadable, layout } = useCanvasActions();
  useCanvasShortcuts();

  useEffect(() => {
    // A loaded workflow is fitted to the view once its nodes are measured; if its saved positions make
    // nodes overlap (posted without positions, hand-written JSON, drawn by another tool), it is laid out
    // first. An empty one has nothing to fit: the request must not linger until the first node is dropped.
    if (!pendingFit) return;
    if (!useEditor.getState().nodes.length) {
      setFitted(fitRequest);
      return;
    }
    if (!measured) return;
    if (overlapping(useEditor.getState().nodes)) layout(false);
    const frame = requestAnimationFrame(() => {
      fitReadable();
      setFitted(fitRequest);
    });
    return () => cancelAnimationFrame(frame);
  }, [pendingFit, fitRequest, measured, fitReadable, layout]);

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

  // Drops are taken by the whole canvas, not only React Flow's pane: the empty canvas's card lies over it.
  return (
    <div
      className={`canvas ${dropping ? "dropping" : ""}`}
      data-layout={pendingFit ? "pending" : "settled"}
      onDragOver={onDragOver}
      onDrop={onDrop}
      onDragLeave={(e) => !e.currentTarget.contains(e.relatedTarget as globalThis.Node | null) && setDropping(false)}
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
        defaultEdgeOptions={DEFAULT_EDGE_OPTIONS}
        deleteKeyCode={null}
        onlyRenderVisibleElements={nodes.length > 120}
        minZoom={0.15}
        maxZoom={2}
        snapToGrid
        snapGrid={[10, 10]}
        proOptions={{ hideAttribution: true }}
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
        <GeneratedReview />
      </ReactFlow>
      {nodes.length === 0 && <EmptyCanvas />}
      {dropping && <div className="drop-hint">Drop to add</div>}
    </div>
  );
}
