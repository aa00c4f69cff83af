// "Describe your pipeline": a sentence (and optionally an uploaded dataset) turned into a workflow by
// POST /api/ai/generate-workflow, placed on the canvas as a new unsaved workflow for review. The sentence and
// the dataset chosen are kept, so a refused sentence can be fixed and a generated one refined.
import { create } from "zustand";
import { api, unwrap } from "../api/client";
import type { WorkflowJson } from "../api/types";
import { useEditor } from "../state/editor";
import { confirmDiscard, loadAsNew } from "./workflowActions";

export const PROMPT_MAX = 2000;

export type Generated = { workflow: WorkflowJson; explanation: string; warnings: string[] };

/** What the canvas shows next to a generated workflow, while that workflow is the one loaded. */
export type Review = { explanation: string; warnings: string[]; fitRequest: number };

type DescribeState = {
  prompt: string;
  /** An uploaded dataset's id, or "" for the shipped sample the sentence names. */
  datasetId: string;
  review: Review | null;
  setPrompt: (prompt: string) => void;
  setDatasetId: (datasetId: string) => void;
  dismissReview: () => void;
};

export const useDescribe = create<DescribeState>()((set) => ({
  prompt: "",
  datasetId: "",
  review: null,
  setPrompt: (prompt) => set({ prompt }),
  setDatasetId: (datasetId) => set({ datasetId }),
  dismissReview: () => set({ review: null }),
}));

/** Ask the API for a workflow; throws an Error with the API's message (a refusal says what to change). */
export async function requestWorkflow(prompt: string, datasetId: string, signal?: AbortSignal): Promise<Generated> {
  const answer = unwrap(
    await api.POST("/api/ai/generate-workflow", { body: { prompt, dataset_id: datasetId || null }, signal }),
  );
  const workflow = answer.workflow as unknown as WorkflowJson;
  if (!Array.isArray(workflow?.nodes)) throw new Error("The answer holds no workflow");
  return { workflow, explanation: answer.explanation, warnings: answer.warnings };
}

/** Put a generated workflow on the canvas (as the templates gallery does); false if the user kept theirs. */
export function placeGenerated(generated: Generated): boolean {
  if (!confirmDiscard()) return false;
  const { workflow } = generated;
  loadAsNew({
    name: workflow.name || "Generated workflow",
    description: workflow.description ?? null,
    nodes: workflow.nodes.map((n) => ({ ...n, data: n.data ?? {} })),
    connections: workflow.connections ?? [],
  });
  const { fitRequest } = useEditor.getState(); // the load's: the review lasts while this workflow is shown
  useDescribe.setState({ review: { explanation: generated.explanation, warnings: generated.warnings, fitRequest } });
  return true;
}
