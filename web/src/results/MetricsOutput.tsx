// A metrics output: metric tiles, then the charts its values allow — confusion matrix, ROC curve (from the
// predictions table), feature importance, residuals (regression) — the per-class report, and MLflow's PNGs.
import { useEditor } from "../state/editor";
import type { OutputSummary, Run } from "../runs/runTypes";
import { ClassReport } from "./ClassReport";
import { ConfusionMatrix } from "./ConfusionMatrix";
import { FeatureImportance } from "./FeatureImportance";
import { scalarMetrics, MetricTiles } from "./MetricTiles";
import { PlotImage } from "./PlotImage";
import { ResidualsPlot } from "./ResidualsPlot";
import { ResultSection } from "./ResultSection";
import { RocCurve } from "./RocCurve";
import { areaUnder, positiveLabel, rocPoints } from "./roc";
import { usePredictions } from "./usePredictions";

type Props = { run: Run; nodeId: string; output: OutputSummary };

export function MetricsOutput({ run, nodeId, output }: Props) {
  const values = output.values ?? {};
  const scalars = scalarMetrics(values);
  const matrix = values.confusion_matrix as number[][] | undefined;
  const labels = (values.labels as unknown[] | undefined) ?? matrix?.map((_, i) => i);
  const importance = values.feature_importance as Record<string, number> | undefined;
  const report = values.classification_report as Record<string, never> | undefined;
  const predictionsPort = Object.entries(run.nodes[nodeId]?.outputs ?? {}).find(
    ([, o]) => o.kind === "dataset" && o.columns?.includes("prediction"),
  );
  const classification = !!matrix || "accuracy" in values;
  const binary = classification && labels?.length === 2;
  const wantsPredictions = !!predictionsPort && ((binary && "roc_auc" in values) || !classification);
  const { rows, error } = usePredictions(run.run_id, nodeId, wantsPredictions ? predictionsPort[0] : undefined);
  const target = predictionsPort?.[1].columns?.find((c) => c !== "prediction" && c !== "probability");
  const chosenPositive = useEditor((s) => s.nodes.find((n) => n.id === nodeId)?.data.parameters.positive_label);
  const registered = registeredModel(run);
  const plots = (output.artifacts ?? []).filter((a) => a.endsWith(".png"));

  if (!scalars.length && !matrix && !importance) {
    return <pre className="json-view">{JSON.stringify(values, null, 2)}</pre>;
  }

  let roc = null;
  if (binary && rows && target) {
    const positive = positiveLabel(labels!, chosenPositive);
    const points = rocPoints(rows, target, positive);
    if (points) roc = { points, positive: String(positive), auc: (values.roc_auc as number | undefined) ?? areaUnder(points) };
  }
  const residuals = !classification && rows && target
    ? rows
        .filter((r) => typeof r[target] === "number" && typeof r.prediction === "number")
        .map((r) => ({ predicted: r.prediction as number, residual: (r[target] as number) - (r.prediction as number) }))
    : null;

  return (
    <div className="metrics-output">
      {scalars.length > 0 && <MetricTiles metrics={scalars} />}
      {matrix && labels && (
        <ResultSection title="Confusion matrix">
          <ConfusionMatrix matrix={matrix} labels={labels} />
        </ResultSection>
      )}
      {binary && "roc_auc" in values && predictionsPort && (
        <ResultSection title="ROC curve">
          {roc ? <RocCurve {...roc} /> : error ? <p className="results-error">Could not read the predictions: {error}</p>
            : rows ? <p className="muted">Not enough positive and negative rows to draw the curve.</p>
            : <p className="muted"><span className="spinner" /> Reading the predictions…</p>}
        </ResultSection>
      )}
      {!classification && predictionsPort && (
        <ResultSection title="Residuals">
          {residuals?.length ? <ResidualsPlot points={residuals} /> : error
            ? <p className="results-error">Could not read the predictions: {error}</p>
            : <p className="muted"><span className="spinner" /> Reading the predictions…</p>}
        </ResultSection>
      )}
      {importance && Object.keys(importance).length > 0 && (
        <ResultSection title="Feature importance" note={`${Object.keys(importance).length} features`}>
          <FeatureImportance values={importance} />
        </ResultSection>
      )}
      {report && (
        <ResultSection title="Per-class report" defaultOpen={false}>
          <ClassReport report={report} />
        </ResultSection>
      )}
      {plots.length > 0 && registered && (
        <ResultSection title="Plots logged to MLflow" note={`${plots.length} PNG`} defaultOpen={false}>
          <div className="plot-grid">
            {plots.map((file) => (
              <PlotImage key={file} model={registered.name} version={registered.version} path={`evaluation/${nodeId}/${file}`} />
            ))}
          </div>
        </ResultSection>
      )}
    </div>
  );
}

/** The model version this run registered, if any: its MLflow run holds the evaluation plots. */
function registeredModel(run: Run): { name: string; version: number } | null {
  for (const node of Object.values(run.nodes)) {
    for (const out of Object.values(node.outputs ?? {})) if (out.registered) return out.registered;
  }
  return null;
}
