// Opening, importing and exporting workflows, with the unsaved-changes guard.
import { api, errorMessage, unwrap } from "../api/client";
import type { WorkflowJson } from "../api/types";
import { useEditor } from "../state/editor";
import { toast } from "../state/toasts";

/** True when there is nothing unsaved to lose, or the user agrees to lose it. */
export function confirmDiscard(): boolean {
  return !useEditor.getState().dirty || window.confirm("You have unsaved changes. Discard them?");
}

export function setLocationWorkflow(id: string | null) {
  const hash = id ? `#/workflows/${encodeURIComponent(id)}` : "";
  if (window.location.hash !== hash) history.replaceState(null, "", `${window.location.pathname}${window.location.search}${hash}`);
}

export function locationWorkflow(): string | null {
  const match = window.location.hash.match(/^#\/workflows\/([^/?]+)/);
  return match ? decodeURIComponent(match[1]) : null;
}

export async function openWorkflow(id: string, guard = true): Promise<boolean> {
  if (guard && !confirmDiscard()) return false;
  try {
    const workflow = unwrap(await api.GET("/api/workflows/{workflow_id}", { params: { path: { workflow_id: id } } }));
    const definition = { ...(workflow.definition as unknown as WorkflowJson), name: workflow.name, description: workflow.description };
    useEditor.getState().load(definition, workflow.id, workflow.current_version);
    setLocationWorkflow(workflow.id);
    return true;
  } catch (error) {
    toast.error(`Could not open the workflow: ${errorMessage(error)}`);
    setLocationWorkflow(null);
    return false;
  }
}

/** Put a definition (template, imported file) on the canvas as a new, unsaved workflow. */
export function loadAsNew(definition: WorkflowJson) {
  useEditor.getState().load(definition, null, null);
  useEditor.setState({ dirty: true });
  setLocationWorkflow(null);
}

export function newWorkflow() {
  if (!confirmDiscard()) return;
  useEditor.getState().newWorkflow();
  setLocationWorkflow(null);
}

export async function saveWorkflow(): Promise<string | null> {
  const { dirty, workflowId } = useEditor.getState();
  if (!dirty && workflowId) {
    toast.info("No changes to save");
    return workflowId;
  }
  try {
    const id = await useEditor.getState().save();
    setLocationWorkflow(id);
    toast.success(`Saved “${useEditor.getState().name}” (version ${useEditor.getState().version})`);
    return id;
  } catch (error) {
    toast.error(`Save failed: ${errorMessage(error)}`);
    return null;
  }
}

export function exportWorkflow() {
  const workflow = useEditor.getState().toWorkflowJson();
  const blob = new Blob([JSON.stringify(workflow, null, 2) + "\n"], { type: "application/json" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `${workflow.name.replace(/[^\w.-]+/g, "_").replace(/^_+|_+$/g, "") || "workflow"}.json`;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

export async function importWorkflowFile(file: File) {
  if (!confirmDiscard()) return;
  try {
    const parsed = JSON.parse(await file.text()) as Partial<WorkflowJson> & { edges?: WorkflowJson["connections"] };
    if (!Array.isArray(parsed.nodes)) throw new Error("the file has no “nodes” list");
    loadAsNew({
      name: parsed.name ?? file.name.replace(/\.json$/i, ""),
      description: parsed.description ?? null,
      nodes: parsed.nodes,
      connections: parsed.connections ?? parsed.edges ?? [],
    });
    toast.success(`Imported ${file.name}: save it to keep it`);
  } catch (error) {
    toast.error(`Could not import ${file.name}: ${errorMessage(error)}`);
  }
}
