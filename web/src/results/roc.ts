// ROC points from a binary classifier's predictions (the evaluate node's table: target, prediction and the
// probability of the predicted class).

export type RocPoint = { fpr: number; tpr: number };

/** The class evaluate treats as positive: the parameter if set, else 1 / true, else the second label. */
export function positiveLabel(labels: unknown[], chosen: unknown): unknown {
  if (chosen != null && chosen !== "") {
    const match = labels.find((l) => String(l) === String(chosen));
    if (match !== undefined) return match;
  }
  for (const candidate of [1, true]) {
    const match = labels.find((l) => l === candidate);
    if (match !== undefined) return match;
  }
  return labels[1];
}

/** The curve's corners, thresholds from high to low; ties move diagonally, as scikit-learn's roc_curve does. */
export function rocPoints(rows: Record<string, unknown>[], target: string, positive: unknown): RocPoint[] | null {
  const same = (v: unknown) => String(v) === String(positive);
  const scored = rows
    .filter((r) => typeof r.probability === "number")
    .map((r) => ({
      score: same(r.prediction) ? (r.probability as number) : 1 - (r.probability as number),
      positive: same(r[target]),
    }))
    .sort((a, b) => b.score - a.score);
  const positives = scored.filter((s) => s.positive).length;
  const negatives = scored.length - positives;
  if (!positives || !negatives) return null;
  const points: RocPoint[] = [{ fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < scored.length; i++) {
    if (scored[i].positive) tp++;
    else fp++;
    if (i === scored.length - 1 || scored[i + 1].score !== scored[i].score) {
      points.push({ fpr: fp / negatives, tpr: tp / positives });
    }
  }
  return points;
}

export function areaUnder(points: RocPoint[]): number {
  let area = 0;
  for (let i = 1; i < points.length; i++) {
    area += ((points[i].fpr - points[i - 1].fpr) * (points[i].tpr + points[i - 1].tpr)) / 2;
  }
  return area;
}
