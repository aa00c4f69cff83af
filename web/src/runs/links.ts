// Links from a run to the Prefect flow run and the MLflow run. The API's RunPublic has no UI addresses yet,
// so these fall back to the default local ports (Prefect 4200, MLflow 5000) on this page's host; the MLflow
// address is learnt from a model version's links when the registry has been browsed.
import type { Run } from "./runTypes";

let mlflowBase: string | null = null;

/** Remember the MLflow UI address from a model version link such as `http://host:5000/#/runs/<id>`. */
export function learnMlflowBase(link: string | undefined) {
  const match = link?.match(/^(https?:\/\/[^#]+?)\/?#\//);
  if (match) mlflowBase = match[1];
}

function host(port: number): string {
  const { protocol, hostname } = window.location;
  return `${protocol === "https:" ? "https:" : "http:"}//${hostname || "127.0.0.1"}:${port}`;
}

export function prefectRunLink(run: Pick<Run, "flow_run_id" | "links">): string | null {
  if (run.links?.prefect_flow_run) return run.links.prefect_flow_run;
  return run.flow_run_id ? `${host(4200)}/runs/flow-run/${run.flow_run_id}` : null;
}

export function mlflowRunLink(run: Pick<Run, "mlflow_run_id" | "links">): string | null {
  if (run.links?.mlflow_run) return run.links.mlflow_run;
  return run.mlflow_run_id ? `${mlflowBase ?? host(5000)}/#/runs/${run.mlflow_run_id}` : null;
}
