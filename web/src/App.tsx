// The editor's layout: top bar, palette | canvas | inspector (each side panel collapsible to a rail), the run
// panel below the canvas; the model registry, the deployments and the connections as full-height overlay pages.
import { ReactFlowProvider } from "@xyflow/react";
import { useEffect, useState } from "react";
import { LoginDialog } from "./auth/LoginDialog";
import { Canvas } from "./canvas/Canvas";
import { UploadReviewDialog } from "./canvas/UploadReviewDialog";
import { Palette } from "./canvas/Palette";
import { ConnectionsView } from "./connections/ConnectionsView";
import { useConnections } from "./connections/connectionsStore";
import { DeploymentsView } from "./deployments/DeploymentsView";
import { Inspector } from "./inspector/Inspector";
import { ModelsView } from "./models/ModelsView";
import { RunPanel } from "./runs/RunPanel";
import { useEditor } from "./state/editor";
import { usePanels } from "./state/panels";
import { PanelRail } from "./ui/SidePanelToggle";
import { Toasts } from "./ui/Toasts";
import { TopBar } from "./workflows/TopBar";
import { useStartup } from "./workflows/useStartup";
import { useValidation } from "./workflows/useValidation";
import "./styles/layout.css";

/** The overlay page open over the editor: the registry, or the deployments (on one of them). */
type Overlay = { page: "models" } | { page: "deployments"; deployment?: string };

export function App() {
  const [overlay, setOverlay] = useState<Overlay | null>(null);
  const close = () => setOverlay(null);
  const runPanelOpen = useEditor((s) => s.runPanelOpen);
  const setRunPanelOpen = useEditor((s) => s.setRunPanelOpen);
  const paletteOpen = usePanels((s) => s.palette);
  const inspectorOpen = usePanels((s) => s.inspector);
  const connectionsPage = useConnections((s) => s.page);
  const { needsLogin, loggedIn } = useStartup();
  useValidation();
  useUnsavedChangesGuard();

  return (
    <ReactFlowProvider>
      <div className="app">
        <TopBar onOpenModels={() => setOverlay({ page: "models" })}
          onOpenDeployments={() => setOverlay({ page: "deployments" })}
          onOpenConnections={() => useConnections.getState().openPage()} />
        <div className="workspace">
          {paletteOpen ? <Palette /> : <PanelRail panel="palette" label="Nodes" />}
          <main className="centre">
            <Canvas />
            <section className={`bottom-panel ${runPanelOpen ? "open" : ""}`} aria-label="Run panel">
              <button
                type="button"
                className="bottom-panel-toggle"
                aria-expanded={runPanelOpen}
                onClick={() => setRunPanelOpen(!runPanelOpen)}
              >
                <span className="chevron" aria-hidden>{runPanelOpen ? "▾" : "▸"}</span> Run panel
              </button>
              {runPanelOpen && (
                <div className="bottom-panel-body">
                  <RunPanel />
                </div>
              )}
            </section>
          </main>
          {inspectorOpen ? <Inspector /> : <PanelRail panel="inspector" label="Inspector" />}
        </div>
        {overlay?.page === "models" && (
          <div className="overlay-page" role="dialog" aria-label="Models">
            <ModelsView onClose={close} onDeployed={(name) => setOverlay({ page: "deployments", deployment: name })} />
          </div>
        )}
        {overlay?.page === "deployments" && (
          <div className="overlay-page" role="dialog" aria-label="Deployments">
            <DeploymentsView initial={overlay.deployment} onClose={close} />
          </div>
        )}
        {connectionsPage && (
          <div className="overlay-page" role="dialog" aria-label="Connections">
            <ConnectionsView initialKind={connectionsPage.kind} onClose={useConnections.getState().closePage} />
          </div>
        )}
        {needsLogin && <LoginDialog onDone={loggedIn} />}
        <UploadReviewDialog />
        <Toasts />
      </div>
    </ReactFlowProvider>
  );
}

function useUnsavedChangesGuard() {
  useEffect(() => {
    const warn = (event: BeforeUnloadEvent) => {
      if (!useEditor.getState().dirty) return;
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, []);
}
