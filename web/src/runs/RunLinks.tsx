// Links from a run to its pages in the Prefect and MLflow UIs (when known).
import { mlflowRunLink, prefectRunLink } from "./links";
import { RunIcon } from "./RunIcon";
import type { Run } from "./runTypes";

export function RunLinks({ run }: { run: Run }) {
  const prefect = prefectRunLink(run);
  const mlflow = mlflowRunLink(run);
  return (
    <>
      {prefect && (
        <a className="ext-link" href={prefect} target="_blank" rel="noreferrer">
          Prefect <RunIcon name="external" size={12} />
        </a>
      )}
      {mlflow && (
        <a className="ext-link" href={mlflow} target="_blank" rel="noreferrer">
          MLflow <RunIcon name="external" size={12} />
        </a>
      )}
    </>
  );
}
