// The deployment's live counters (GET …/stats every 2 s while the page is open) and the requests of the last
// two minutes, as bars of each 2 s interval.
import { useState } from "react";
import { errorMessage } from "../api/client";
import { formatTick, linear } from "../results/chartScale";
import { deploymentsApi } from "./deploymentsApi";
import type { DeploymentStats } from "./deploymentTypes";
import { usePoll } from "./usePoll";

const EVERY_MS = 2000;
const KEPT = 60; // two minutes of samples

export function LiveCounter({ name, onStats }: { name: string; onStats: (stats: DeploymentStats) => void }) {
  const [stats, setStats] = useState<DeploymentStats | null>(null);
  const [totals, setTotals] = useState<number[]>([]);
  const [error, setError] = useState<string | null>(null);

  usePoll(async () => {
    try {
      const found = await deploymentsApi.stats(name);
      setStats(found);
      setTotals((kept) => [...kept.slice(1 - KEPT), found.requests_total]);
      setError(null);
      onStats(found);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, EVERY_MS);

  const tiles: [string, string, number | undefined][] = [
    ["requests_total", "Requests", stats?.requests_total],
    ["predictions_total", "Predicted rows", stats?.predictions_total],
    ["last_minute", "Last minute", stats?.last_minute],
    ["labelled_total", "Labelled rows", stats?.labelled_total],
  ];
  return (
    <section className="card live-card" aria-label="Traffic">
      <div className="card-head">
        <h3>Traffic</h3>
        <span className={`live-dot ${error ? "stale" : ""}`} aria-hidden />
        <span className="muted">{error ? `Not updating: ${error}` : "live, every 2 s"}</span>
      </div>
      <dl className="metric-tiles counter-tiles">
        {tiles.map(([key, title, value]) => (
          <div key={key} className="metric-tile">
            <dt>{title}</dt>
            <dd data-testid={`stat-${key}`}>{value == null ? "—" : value.toLocaleString()}</dd>
          </div>
        ))}
      </dl>
      <RequestBars totals={totals} />
    </section>
  );
}

const W = 300;
const H = 70;
const M = { left: 26, right: 4, top: 6, bottom: 4 };

/** New requests in each 2 s interval since the page opened (at most the last two minutes), newest on the right. */
function RequestBars({ totals }: { totals: number[] }) {
  const counts = totals.slice(1).map((t, i) => Math.max(0, t - totals[i]));
  const y = linear(0, Math.max(1, ...counts), H - M.bottom, M.top, 3);
  const slot = (W - M.left - M.right) / (KEPT - 1);
  const offset = KEPT - 1 - counts.length;
  return (
    <figure className="chart request-bars" data-testid="request-bars">
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img"
        aria-label={`Requests in the last ${Math.round((counts.length * EVERY_MS) / 1000)} s: ${counts.reduce((a, b) => a + b, 0)}`}>
        {y.ticks.filter(Number.isInteger).map((t) => (
          <g key={t}>
            <line x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} className="grid" />
            <text x={M.left - 4} y={y(t) + 3} className="tick" textAnchor="end">{formatTick(t)}</text>
          </g>
        ))}
        {counts.map((c, i) => c > 0 && (
          <rect key={i} x={M.left + (offset + i) * slot + 0.5} y={y(c)} width={Math.max(1, slot - 1)}
            height={y(0) - y(c)} className="bar" />
        ))}
      </svg>
      <figcaption>requests per 2 s, last 2 minutes</figcaption>
    </figure>
  );
}
