/**
 * How long Azure asks us to wait, from its headers: `retry-after-ms` (Azure's, most precise),
 * `x-ms-retry-after-ms`, then `retry-after` in seconds or as an HTTP date (RFC 9110 §10.2.3).
 * Bounded: a missing or absurd value becomes the default; a huge one is capped.
 */
export function retryDelayMs(headers: Readonly<Record<string, string>>, defaultMs: number, maxMs: number): number {
  const ms = Number(headers["retry-after-ms"] ?? headers["x-ms-retry-after-ms"]);
  if (Number.isFinite(ms) && ms > 0) return Math.min(ms, maxMs);
  const after = headers["retry-after"];
  if (after !== undefined) {
    const seconds = Number(after);
    if (Number.isFinite(seconds) && seconds > 0) return Math.min(seconds * 1000, maxMs);
    const date = Date.parse(after);
    if (Number.isFinite(date) && date > Date.now()) return Math.min(date - Date.now(), maxMs);
  }
  return defaultMs;
}
