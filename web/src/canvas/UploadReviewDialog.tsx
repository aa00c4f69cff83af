// The dialog that shows how an uploaded CSV is read (a few rows, its columns) and what looks wrong, with a
// one-click fix per warning; the csv_loader on the canvas takes every fix applied here.
import { useMemo } from "react";
import type { NodeWarning } from "../api/types";
import { useEditor } from "../state/editor";
import { openWarnings } from "../state/warnings";
import { Icon } from "../ui/Icon";
import { Modal } from "../ui/Modal";
import { WarningItem } from "../inspector/NodeWarnings";
import { useUploadReview } from "./uploadReview";

const NO_PARAMETERS: Record<string, unknown> = {};

export function UploadReviewDialog() {
  const review = useUploadReview((s) => s.review);
  const applyFix = useUploadReview((s) => s.applyFix);
  const close = useUploadReview((s) => s.close);
  const parameters = useEditor((s) => s.nodes.find((n) => n.id === review?.nodeId)?.data.parameters ?? NO_PARAMETERS);
  const preview = review?.preview;
  const warnings = useMemo(
    () => openWarnings([(preview?.warnings ?? []) as NodeWarning[]], parameters),
    [preview, parameters],
  );
  if (!review) return null;

  return (
    <Modal
      title={`Check how ${review.name} is read`}
      onClose={close}
      width={760}
      footer={
        <button type="button" className="btn btn-primary" onClick={close}>
          Done
        </button>
      }
    >
      <div className="upload-review" data-testid="upload-review">
        <p className="upload-review-summary muted">
          {preview ? (
            <>
              {preview.total_rows.toLocaleString()} rows × {preview.columns.length} columns, read as the csv_loader{" "}
              <code>{review.nodeId}</code> reads it.
            </>
          ) : (
            "Reading the file…"
          )}
          {review.loading && <span className="spinner inline" />}
        </p>
        {review.error && <p className="field-error">Could not read the file this way: {review.error}</p>}
        {preview && !review.loading && warnings.length === 0 && (
          <p className="all-good">
            <Icon name="check" size={14} /> Nothing looks wrong now.
          </p>
        )}
        {warnings.length > 0 && (
          <ul className="problem-list" aria-label="Reading warnings">
            {warnings.map((w) => (
              <WarningItem key={`${w.code}|${w.message}`} warning={w} disabled={review.loading}
                onApply={(fix) => void applyFix(fix)} />
            ))}
          </ul>
        )}
        {preview && (
          <div className="upload-review-table">
            <table aria-label="First rows">
              <thead>
                <tr>
                  {preview.columns.map((c) => (
                    <th key={c.name} scope="col">
                      {c.name}
                      <span className="dtype">{c.dtype}</span>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {preview.rows.map((row, i) => (
                  <tr key={i}>
                    {preview.columns.map((c) => (
                      <td key={c.name}>{row[c.name] == null ? <span className="faint">—</span> : String(row[c.name])}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </Modal>
  );
}
