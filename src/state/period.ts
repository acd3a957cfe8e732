/** The report's period: `since` as YYYY-MM-DD or Nd (the last N UTC days, today included). */
import { utcDay } from "./usage-row.ts";

const DAY_MS = 86_400_000;

/** The first day, or an error message. */
export function parseSince(text: string, now: number): string | Error {
  const days = /^(\d{1,4})d$/.exec(text);
  if (days) {
    const n = Number(days[1]);
    if (n < 1) return new Error("must be at least 1d");
    return utcDay(now - (n - 1) * DAY_MS);
  }
  return parseDay(text);
}

export function parseDay(text: string): string | Error {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`)) || utcDay(Date.parse(`${text}T00:00:00Z`)) !== text) {
    return new Error(`must be a day YYYY-MM-DD (or Nd for the last N days), got "${text}"`);
  }
  return text;
}
