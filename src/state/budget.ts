/**
 * Whether a key is past one of its budgets (`keys[].budget`), given what it spent this UTC day
 * and month. Pure: the caller supplies the totals and the time. Past a budget the answer is
 * OpenAI's own "out of credit" error, 429 `insufficient_quota`, with `x-should-retry: false`:
 * OpenAI's SDKs retry a 429 by default, and retrying cannot help until the reset.
 */
import type { BudgetConfig } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";

export interface SpentTotals {
  /** The UTC day (YYYY-MM-DD) the day totals are for. */
  day: string;
  dayTokens: number;
  dayCost: number;
  /** The UTC month (YYYY-MM) the month totals are for. */
  month: string;
  monthTokens: number;
  monthCost: number;
}

export function emptyTotals(now: number): SpentTotals {
  const day = new Date(now).toISOString().slice(0, 10);
  return { day, dayTokens: 0, dayCost: 0, month: day.slice(0, 7), monthTokens: 0, monthCost: 0 };
}

/** Move the totals to the day and month of `now`: a new day (or month) starts at 0. */
export function rollOver(totals: SpentTotals, now: number): void {
  const day = new Date(now).toISOString().slice(0, 10);
  if (day === totals.day) return;
  totals.day = day;
  totals.dayTokens = 0;
  totals.dayCost = 0;
  if (day.slice(0, 7) !== totals.month) {
    totals.month = day.slice(0, 7);
    totals.monthTokens = 0;
    totals.monthCost = 0;
  }
}

/** A call's spend added to its key's running totals (rolled to the call's UTC day first). */
export function addSpend(totals: SpentTotals, at: number, tokens: number, cost: number): void {
  rollOver(totals, at);
  totals.dayTokens += tokens;
  totals.monthTokens += tokens;
  totals.dayCost += cost;
  totals.monthCost += cost;
}

export function nextUtcDay(now: number): Date {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1));
}

export function nextUtcMonth(now: number): Date {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
}

/** The refusal for a key past a budget, or undefined while it is within all of them. */
export function overBudget(name: string, budget: BudgetConfig, totals: SpentTotals, now: number): Failure | undefined {
  rollOver(totals, now);
  const checks: Array<[keyof BudgetConfig, number, string, Date]> = [
    ["tokens_per_day", totals.dayTokens, "tokens per UTC day", nextUtcDay(now)],
    ["usd_per_day", totals.dayCost, "USD per UTC day", nextUtcDay(now)],
    ["tokens_per_month", totals.monthTokens, "tokens per UTC month", nextUtcMonth(now)],
    ["usd_per_month", totals.monthCost, "USD per UTC month", nextUtcMonth(now)],
  ];
  for (const [field, used, unit, resets] of checks) {
    const limit = budget[field];
    if (limit === undefined || used < limit) continue;
    const shown = unit.startsWith("USD") ? used.toFixed(4) : String(used);
    return new Failure(
      "quota_exceeded",
      `The key '${name}' is past its budget ${field} (${limit} ${unit}; used ${shown}). It resets at ${resets.toISOString().replace(".000Z", "Z")}.`,
      { code: "insufficient_quota", headers: { "x-should-retry": "false" } },
    );
  }
  return undefined;
}
