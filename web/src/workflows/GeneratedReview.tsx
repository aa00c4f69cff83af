// Over the canvas, next to a workflow generated from a sentence: how the sentence was read and what to check.
// It goes away with that workflow (another one loaded) or when dismissed.
import { Panel } from "@xyflow/react";
import { useState } from "react";
import { useDialogs } from "../state/dialogs";
import { useEditor } from "../state/editor";
import { Icon } from "../ui/Icon";
import { useDescribe } from "./describe";
import "./describe.css";

export function GeneratedReview() {
  const review = useDescribe((s) => s.review);
  const dismiss = useDescribe((s) => s.dismissReview);
  const current = useEditor((s) => s.fitRequest);
  const [folded, setFolded] = useState(false);
  if (!review || review.fitRequest !== current) return null;

  return (
    <Panel position="top-right" className="generated-review" role="region" aria-label="Generated workflow">
      <header className="generated-review-head">
        <Icon name="sparkles" />
        <strong>Generated from your description</strong>
        <button
          type="button"
          className="icon-btn"
          aria-label={folded ? "Show the explanation" : "Fold the explanation"}
          aria-expanded={!folded}
          onClick={() => setFolded(!folded)}
        >
          <Icon name={folded ? "chevronDown" : "chevronUp"} size={14} />
        </button>
        <button type="button" className="icon-btn" aria-label="Dismiss the explanation" onClick={dismiss}>
          <Icon name="close" size={14} />
        </button>
      </header>
      {!folded && (
        <p className="generated-explanation" data-testid="generated-explanation">
          {review.explanation || "No explanation was given."}
        </p>
      )}
      {!folded && review.warnings.length > 0 && (
        <ul className="generated-warnings" aria-label="Generation warnings">
          {review.warnings.map((w) => (
            <li key={w}>
              <Icon name="alert" size={13} />
              <span>{w}</span>
            </li>
          ))}
        </ul>
      )}
      <footer className="generated-review-foot">
        <span className="muted">Review the nodes, then save.</span>
        <button type="button" className="btn btn-sm" onClick={() => useDialogs.getState().show("describe")}>
          <Icon name="edit" size={13} /> Edit description
        </button>
      </footer>
    </Panel>
  );
}
