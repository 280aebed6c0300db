// Small statistics for the benchmark tables.
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}
export const median = (v) => quantile(v, 0.5);
export const p95 = (v) => quantile(v, 0.95);
export const p99 = (v) => quantile(v, 0.99);
export const fixed = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "n/a");
export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}x` : "n/a");
