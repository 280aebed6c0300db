"use client";

import { useEffect, useState } from "react";

function format(ms: number): string {
  if (ms <= 0) return "expired";
  const s = Math.floor(ms / 1000);
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m ${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** Time left until `at` (ms since epoch), updated every second. */
export function Countdown({ at }: { at: number | null }) {
  const [now, setNow] = useState<number | null>(null);
  useEffect(() => {
    setNow(Date.now());
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, []);
  if (at === null) return <span>never</span>;
  return <span data-testid="countdown">{now === null ? "…" : format(at - now)}</span>;
}
