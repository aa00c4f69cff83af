// Numbers and cells as the results show them.

export function formatMetric(value: unknown): string {
  if (typeof value !== "number") return String(value);
  const abs = Math.abs(value);
  if (abs <= 1) return value.toFixed(4); // scores such as accuracy: 1 reads "1.0000", like its neighbours
  if (Number.isInteger(value)) return value.toLocaleString();
  if (abs >= 1000) return value.toLocaleString(undefined, { maximumFractionDigits: 1 });
  return value.toFixed(3);
}

export function formatCell(value: unknown): string {
  if (value == null) return "";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    return String(+value.toPrecision(6));
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** "f1_score" → "F1 score", "roc_auc" → "ROC AUC", "r2" → "R²". */
export function metricTitle(name: string): string {
  const special: Record<string, string> = {
    roc_auc: "ROC AUC", r2: "R²", rmse: "RMSE", mae: "MAE", mse: "MSE", f1_score: "F1 score",
    f1_score_macro: "F1 (macro)", precision_macro: "Precision (macro)", recall_macro: "Recall (macro)",
  };
  return special[name] ?? name.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}
