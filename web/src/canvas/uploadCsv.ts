// Uploading a CSV (with progress) and placing a csv_loader node for it; when reading it raised warnings, the
// node carries them and a dialog offers their fixes.
import { authHeaders, errorMessage } from "../api/client";
import type { components } from "../api/schema";
import type { NodeWarning } from "../api/types";
import { useEditor } from "../state/editor";
import { useToasts } from "../state/toasts";
import { useUploadReview } from "./uploadReview";

type Dataset = components["schemas"]["DatasetUploaded"];

function upload(file: File, onProgress: (fraction: number) => void): Promise<Dataset> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/api/upload");
    for (const [key, value] of Object.entries(authHeaders())) request.setRequestHeader(key, value);
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = request.responseText || `HTTP ${request.status}`;
      }
      if (request.status >= 200 && request.status < 300) resolve(body as Dataset);
      else reject(new Error(errorMessage(body)));
    };
    request.onerror = () => reject(new Error("network error"));
    const form = new FormData();
    form.append("file", file);
    request.send(form);
  });
}

/** Upload `file` and add a csv_loader for it at `position` (flow coordinates). */
export async function uploadCsvAsNode(file: File, position: { x: number; y: number }): Promise<string | null> {
  const toasts = useToasts.getState();
  if (!/\.(csv|txt|tsv)$/i.test(file.name)) {
    toasts.show("error", `${file.name} is not a CSV file`);
    return null;
  }
  const id = toasts.show("info", `Uploading ${file.name}…`, { progress: 0, sticky: true });
  try {
    const dataset = await upload(file, (fraction) => toasts.update(id, { progress: fraction }));
    const loader = dataset.loader as { type?: string; parameters?: Record<string, unknown> } | undefined;
    const editor = useEditor.getState();
    const nodeId = editor.addNode(loader?.type ?? "csv_loader", position, {
      label: dataset.name,
      parameters: loader?.parameters ?? { dataset_id: dataset.id },
    });
    const warnings = (dataset.warnings ?? []) as NodeWarning[];
    editor.setSampleWarnings([nodeId], warnings.map((w) => ({ ...w, node_id: nodeId })));
    const size = `${dataset.rows} rows, ${dataset.columns.length} columns`;
    const note = warnings.length ? ` (${warnings.length} warning${warnings.length > 1 ? "s" : ""}: check how it is read)` : "";
    toasts.update(id, { kind: "success", text: `Uploaded ${dataset.name}: ${size}${note}`, progress: undefined }, 4000);
    if (warnings.length) useUploadReview.getState().open(nodeId, dataset.id, dataset.name);
    return nodeId;
  } catch (error) {
    toasts.update(id, { kind: "error", text: `Upload of ${file.name} failed: ${errorMessage(error)}`, progress: undefined }, 8000);
    return null;
  }
}
