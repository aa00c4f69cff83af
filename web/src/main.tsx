import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "@xyflow/react/dist/style.css";
import "./styles/theme.css";
import { App } from "./App";
import { useEditor } from "./state/editor";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// For end-to-end tests and debugging from the browser console: the editor's store.
declare global {
  interface Window {
    flowzaEditor?: typeof useEditor;
  }
}
window.flowzaEditor = useEditor;
