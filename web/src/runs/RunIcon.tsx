// Icons the run and results areas need beyond ../ui/Icon (play, stop, caret, external link, table, image).
const PATHS = {
  play: "M7 5v14l12-7z",
  stop: "M7 7h10v10H7z",
  caret: "m7 10 5 5 5-5",
  external: "M14 4h6v6M20 4l-9 9M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5",
  table: "M4 5h16v14H4zM4 10h16M4 15h16M10 5v14",
  refresh: "M20 11a8 8 0 1 0-2.3 5.7M20 5v6h-6",
  image: "M4 5h16v14H4zM8 11a2 2 0 1 0 0-4 2 2 0 0 0 0 4zM20 16l-5-5-9 8",
} as const;

export type RunIconName = keyof typeof PATHS;

export function RunIcon({ name, size = 14, filled = false }: { name: RunIconName; size?: number; filled?: boolean }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" fill={filled ? "currentColor" : "none"}
      stroke="currentColor" strokeWidth={filled ? 1.2 : 1.8} strokeLinecap="round" strokeLinejoin="round">
      <path d={PATHS[name]} />
    </svg>
  );
}
