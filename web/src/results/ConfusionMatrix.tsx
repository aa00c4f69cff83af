// The confusion matrix as a heat map: actual classes down, predicted across, counts in the cells.
const WIDTH = 300;
const LEFT = 58; // "Actual" title and class labels
const TOP = 36; // "Predicted" title and class labels

function mix(t: number): string {
  // from the accent's soft tint (#eef0fe) to the accent (#4f46e5)
  const a = [0xee, 0xf0, 0xfe];
  const b = [0x4f, 0x46, 0xe5];
  return `rgb(${a.map((v, i) => Math.round(v + (b[i] - v) * t)).join(",")})`;
}

const short = (label: unknown) => {
  const text = String(label);
  return text.length > 8 ? `${text.slice(0, 7)}…` : text;
};

export function ConfusionMatrix({ matrix, labels }: { matrix: number[][]; labels: unknown[] }) {
  const n = matrix.length;
  const cell = Math.min(64, (WIDTH - LEFT - 4) / n);
  const size = cell * n;
  const max = Math.max(1, ...matrix.flat());
  const total = matrix.flat().reduce((a, b) => a + b, 0);
  const correct = matrix.reduce((sum, row, i) => sum + (row[i] ?? 0), 0);
  const fontSize = cell < 30 ? 9 : 12;

  return (
    <figure className="chart" data-testid="confusion-matrix">
      <svg
        viewBox={`0 0 ${LEFT + size + 4} ${TOP + size + 4}`}
        width="100%"
        style={{ maxWidth: LEFT + size + 4 }}
        role="img"
        aria-label={`Confusion matrix: ${correct} of ${total} test rows on the diagonal (predicted correctly)`}
      >
        <text x={LEFT + size / 2} y={11} className="axis-title" textAnchor="middle">Predicted</text>
        <text x={11} y={TOP + size / 2} className="axis-title" textAnchor="middle" transform={`rotate(-90 11 ${TOP + size / 2})`}>
          Actual
        </text>
        {labels.map((label, j) => (
          <text key={`p${j}`} x={LEFT + j * cell + cell / 2} y={TOP - 8} className="tick" textAnchor="middle">
            {short(label)}
          </text>
        ))}
        {labels.map((label, i) => (
          <text key={`a${i}`} x={LEFT - 8} y={TOP + i * cell + cell / 2 + 4} className="tick" textAnchor="end">
            {short(label)}
          </text>
        ))}
        {matrix.map((row, i) =>
          row.map((count, j) => {
            const t = count / max;
            const share = row.reduce((a, b) => a + b, 0);
            return (
              <g key={`${i}-${j}`}>
                <rect x={LEFT + j * cell} y={TOP + i * cell} width={cell - 2} height={cell - 2} rx={3} fill={mix(t)}>
                  <title>{`Actual ${String(labels[i])}, predicted ${String(labels[j])}: ${count} (${share ? ((100 * count) / share).toFixed(1) : 0}% of actual ${String(labels[i])})`}</title>
                </rect>
                <text
                  x={LEFT + j * cell + (cell - 2) / 2}
                  y={TOP + i * cell + (cell - 2) / 2 + fontSize / 3}
                  textAnchor="middle"
                  className="cell-count"
                  style={{ fontSize }}
                  fill={t > 0.5 ? "#fff" : "#1d2330"}
                >
                  {count}
                </text>
              </g>
            );
          }),
        )}
      </svg>
      <figcaption>
        {correct} of {total} correct ({total ? ((100 * correct) / total).toFixed(1) : 0}%) · rows: actual class, columns: predicted
      </figcaption>
    </figure>
  );
}
