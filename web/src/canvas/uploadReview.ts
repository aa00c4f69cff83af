// Checking how an uploaded CSV is read: when the upload raised warnings (a header that is data, a likely
// separator, gap markers), a dialog previews the table as its csv_loader reads it; each fix is set on that
// node through the ordinary, undoable parameter edit, and the preview is read again with it.
import { create } from "zustand";
import { api, errorMessage, unwrap } from "../api/client";
import type { components, operations } from "../api/schema";
import type { NodeWarning } from "../api/types";
import { useEditor } from "../state/editor";

export type DatasetPreview = components["schemas"]["DatasetPreview"];
type PreviewQuery = NonNullable<operations["preview_api_datasets__dataset_id__preview_get"]["parameters"]["query"]>;

const PREVIEW_ROWS = 8;
/** The csv_loader's parameters that say where to read, not how: the rest are the preview's reading options. */
const SOURCE = new Set(["dataset_id", "file_path"]);

export type UploadReview = {
  nodeId: string;
  datasetId: string;
  name: string;
  preview: DatasetPreview | null;
  loading: boolean;
  error: string | null;
};

type ReviewState = {
  review: UploadReview | null;
  open: (nodeId: string, datasetId: string, name: string) => void;
  applyFix: (fix: Record<string, unknown>) => Promise<void>;
  close: () => void;
};

/** The node's reading options, as the preview's query parameters. */
function readingOptions(nodeId: string): PreviewQuery {
  const node = useEditor.getState().nodes.find((n) => n.id === nodeId);
  const options = Object.entries(node?.data.parameters ?? {}).filter(([k, v]) => !SOURCE.has(k) && v != null);
  return Object.fromEntries(options) as PreviewQuery;
}

export const useUploadReview = create<ReviewState>()((set, get) => {
  /** Read the preview with the node's current options; its warnings become the node's. */
  const refresh = async () => {
    const review = get().review;
    if (!review) return;
    set({ review: { ...review, loading: true, error: null } });
    try {
      const preview = unwrap(
        await api.GET("/api/datasets/{dataset_id}/preview", {
          params: { path: { dataset_id: review.datasetId }, query: { ...readingOptions(review.nodeId), limit: PREVIEW_ROWS } },
        }),
      );
      if (get().review?.nodeId !== review.nodeId) return;
      set({ review: { ...get().review!, preview, loading: false } });
      const warnings = (preview.warnings ?? []) as NodeWarning[];
      useEditor.getState().setSampleWarnings([review.nodeId], warnings.map((w) => ({ ...w, node_id: review.nodeId })));
    } catch (error) {
      if (get().review?.nodeId === review.nodeId) set({ review: { ...get().review!, loading: false, error: errorMessage(error) } });
    }
  };

  return {
    review: null,
    open(nodeId, datasetId, name) {
      set({ review: { nodeId, datasetId, name, preview: null, loading: true, error: null } });
      void refresh();
    },
    async applyFix(fix) {
      const review = get().review;
      if (!review || !useEditor.getState().nodes.some((n) => n.id === review.nodeId)) return;
      useEditor.getState().updateParameters(review.nodeId, fix);
      await refresh();
    },
    close: () => set({ review: null }),
  };
});
