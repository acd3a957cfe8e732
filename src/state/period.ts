/** The report's period: `since` as YYYY-MM-DD or Nd (the last N UTC days, today included). */
import { utcDay } from "./usage-row.ts";

const DAY_MS = 86_400_000;
/**
 * The longest report: Redis keeps a hash per day, read in one pipeline, and its reader stopped
 * at this many days without a word (a report from 2020 on ended in 2022). Said up front instead.
 */
export const MAX_REPORT_DAYS = 800;

/** Why `since`..`until` is not a period to report on, or undefined when it is one. */
export function periodProblem(since: string, until: string): string | undefined {
  if (since > until) return `must not be after until (${until}), got "${since}"`;
  const days = (Date.parse(`${until}T00:00:00Z`) - Date.parse(`${since}T00:00:00Z`)) / DAY_MS + 1;
  if (days > MAX_REPORT_DAYS) return `the period may be at most ${MAX_REPORT_DAYS} days, got ${days} (from "${since}")`;
  return undefined;
}

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
