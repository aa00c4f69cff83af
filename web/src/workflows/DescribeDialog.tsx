// The "Describe your pipeline" dialog: a sentence, the data it is about, and Generate. A refusal (a column
// that does not exist, a request no node can do) is shown under the sentence, which stays for fixing.
import { useEffect, useRef, useState } from "react";
import { api, errorMessage } from "../api/client";
import { Icon } from "../ui/Icon";
import { Modal } from "../ui/Modal";
import { PROMPT_MAX, placeGenerated, requestWorkflow, useDescribe } from "./describe";
import "./describe.css";

type DatasetOption = { id: string; name: string; rows: number; columns: unknown[] };

const EXAMPLE = "predict survived from titanic with xgboost, drop the name column, fill missing ages";

export function DescribeDialog({ onClose }: { onClose: () => void }) {
  const prompt = useDescribe((s) => s.prompt);
  const setPrompt = useDescribe((s) => s.setPrompt);
  const datasetId = useDescribe((s) => s.datasetId);
  const setDatasetId = useDescribe((s) => s.setDatasetId);
  const [datasets, setDatasets] = useState<DatasetOption[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const text = useRef<HTMLTextAreaElement>(null);
  const pending = useRef<AbortController | null>(null);

  useEffect(() => {
    let live = true;
    api
      .GET("/api/datasets/", { params: { query: { limit: 200 } } })
      .then(({ data }) => live && setDatasets((data as DatasetOption[] | undefined) ?? []))
      .catch(() => live && setDatasets([]));
    // After the dialog's own focus (its first button): the sentence is what is typed first.
    const frame = requestAnimationFrame(() => text.current?.focus());
    return () => {
      live = false;
      cancelAnimationFrame(frame);
      pending.current?.abort(); // closed while generating: nothing is placed afterwards
    };
  }, []);

  // A dataset chosen earlier and deleted since falls back to the sample the sentence names.
  useEffect(() => {
    if (datasets && datasetId && !datasets.some((d) => d.id === datasetId)) setDatasetId("");
  }, [datasets, datasetId, setDatasetId]);

  const generate = async () => {
    const sentence = prompt.trim();
    if (!sentence || busy) return;
    const controller = new AbortController();
    pending.current = controller;
    setBusy(true);
    setError(null);
    try {
      const generated = await requestWorkflow(sentence, datasetId, controller.signal);
      if (placeGenerated(generated)) onClose();
    } catch (e) {
      if (!controller.signal.aborted) setError(errorMessage(e));
    } finally {
      if (!controller.signal.aborted) setBusy(false);
    }
  };

  return (
    <Modal
      title="Describe your pipeline"
      onClose={onClose}
      width={620}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            className="btn btn-primary"
            disabled={busy || !prompt.trim()}
            aria-busy={busy || undefined}
            onClick={() => void generate()}
          >
            {busy ? <span className="spinner" /> : <Icon name="sparkles" />}
            {busy ? "Generating…" : "Generate"}
          </button>
        </>
      }
    >
      <form
        className="describe-form"
        onSubmit={(e) => {
          e.preventDefault();
          void generate();
        }}
      >
        <div className="field">
          <label htmlFor="describe-prompt">What should the workflow do?</label>
          <textarea
            ref={text}
            id="describe-prompt"
            className={`textarea ${error ? "invalid" : ""}`}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? "describe-error" : "describe-help"}
            rows={4}
            maxLength={PROMPT_MAX}
            placeholder={EXAMPLE}
            value={prompt}
            onChange={(e) => setPrompt(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                e.stopPropagation(); // Ctrl+Enter here generates; it must not run the workflow behind
                void generate();
              }
            }}
          />
          <p className="field-help" id="describe-help">
            Name the target column, the model and the cleaning steps. Ctrl+Enter generates.
          </p>
        </div>
        <div className="field">
          <label htmlFor="describe-dataset">Data</label>
          <select
            id="describe-dataset"
            className="select"
            value={datasetId}
            onChange={(e) => setDatasetId(e.target.value)}
          >
            <option value="">A shipped sample named in the sentence (titanic, iris, …)</option>
            {(datasets ?? []).map((d) => (
              <option key={d.id} value={d.id}>
                {d.name} · {d.rows} rows × {d.columns.length} columns
              </option>
            ))}
          </select>
          {datasets === null && <p className="field-help">Loading your datasets…</p>}
        </div>
        {error && (
          <p className="describe-error" id="describe-error" role="alert">
            <Icon name="alert" size={14} />
            <span>{error}</span>
          </p>
        )}
        <p className="field-help">
          The workflow is checked against the data's real columns and tried on a sample, then placed on the canvas
          as a new, unsaved workflow for you to review.
        </p>
      </form>
    </Modal>
  );
}
