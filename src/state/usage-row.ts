/**
 * The ledger's unit: what one key spent on one model through one upstream on one UTC day.
 * Every finished call that went upstream adds to exactly one row.
 */
export interface UsageRow {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  key: string;
  model: string;
  upstream: string;
  requests: number;
  prompt: number;
  /** Prompt tokens Azure served from its cache (a part of `prompt`). */
  cached: number;
  completion: number;
  /** USD, from `prices` at the time of the call (0 for unpriced models). */
  cost: number;
}

/** One finished call, as the request path reports it. */
export interface UsageEntry {
  /**
   * How many calls this is: 1 when absent. A Realtime session reports each response's tokens
   * as it is done (0 calls), so budgets see them while it runs, and itself (1 call) at its end.
   */
  readonly requests?: number;
  readonly key: string;
  readonly model: string;
  readonly upstream: string;
  readonly prompt: number;
  readonly cached: number;
  readonly completion: number;
  /** When it finished (ms since the epoch): its day. */
  readonly at: number;
}

const DAY_MS = 86_400_000;
// every request's ledger entry names its day: the string is made once a day, not per request
let dayStart = Number.NaN;
let dayText = "";

export function utcDay(ms: number): string {
  if (ms >= dayStart && ms < dayStart + DAY_MS) return dayText;
  const start = Math.floor(ms / DAY_MS) * DAY_MS;
  const text = new Date(start).toISOString().slice(0, 10);
  // only the newest day is kept: reports asking about older days must not evict it
  if (!(start < dayStart)) {
    dayStart = start;
    dayText = text;
  }
  return text;
}

export function rowKey(day: string, key: string, model: string, upstream: string): string {
  // \u0000 cannot appear in a key name, model or upstream: no two rows share a map key
  return `${day}\u0000${key}\u0000${model}\u0000${upstream}`;
}

export function addInto(row: UsageRow, more: Pick<UsageRow, "requests" | "prompt" | "cached" | "completion" | "cost">): void {
  row.requests += more.requests;
  row.prompt += more.prompt;
  row.cached += more.cached;
  row.completion += more.completion;
  row.cost += more.cost;
}
