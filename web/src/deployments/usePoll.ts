// Call a function now and then every `everyMs` after each call has finished (calls never overlap), while the
// component is mounted and `enabled`; closing the page stops it.
import { useEffect, useRef } from "react";

export function usePoll(tick: () => Promise<unknown>, everyMs: number, enabled = true): void {
  const latest = useRef(tick);
  useEffect(() => {
    latest.current = tick;
  });
  useEffect(() => {
    if (!enabled) return;
    let stopped = false;
    let timer: number | undefined;
    const loop = async () => {
      try {
        await latest.current();
      } finally {
        if (!stopped) timer = window.setTimeout(() => void loop(), everyMs);
      }
    };
    void loop();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [everyMs, enabled]);
}
