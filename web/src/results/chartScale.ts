// Linear scales and round tick values for the SVG charts.

export type Scale = ((value: number) => number) & { ticks: number[] };

/** Round tick values covering [min, max], about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) return [min - 1, min, min + 1];
  const raw = (max - min) / Math.max(1, count - 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.floor(min / step) * step; t <= max + step * 0.5; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

/** Map [domain] onto [range], with round ticks spanning the domain. */
export function linear(domainMin: number, domainMax: number, rangeFrom: number, rangeTo: number, count = 5): Scale {
  const ticks = niceTicks(domainMin, domainMax, count);
  const lo = Math.min(domainMin, ticks[0]);
  const hi = Math.max(domainMax, ticks[ticks.length - 1]);
  const span = hi - lo || 1;
  const scale = ((v: number) => rangeFrom + ((v - lo) / span) * (rangeTo - rangeFrom)) as Scale;
  scale.ticks = ticks;
  return scale;
}

export function formatTick(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 10000) return `${(value / 1000).toFixed(0)}k`;
  if (abs >= 100) return value.toFixed(0);
  return String(+value.toPrecision(3));
}
