/**
 * The usage ledger and the budgets of one process (or of a worker pool's primary). Finished
 * calls are summed in memory per (day, key, model, upstream) and written to the store once a
 * second and on close, so a call costs a map update, not a write; a crash loses at most the
 * last second. Budgets read running totals per key (loaded from the store once, then kept up
 * to date here, the only writer), so a budget check is a few comparisons.
 */
import type { Logger } from "../lib/log.ts";
import { addSpend, emptyTotals, overBudget, type SpentTotals } from "./budget.ts";
import { costOf, type Prices } from "./prices.ts";
import type { BudgetedClient, Spending } from "./spending.ts";
import type { UsageStore } from "./store.ts";
import { addInto, rowKey, utcDay, type UsageEntry, type UsageRow } from "./usage-row.ts";

export const FLUSH_MS = 1000;

export class Accountant implements Spending {
  private readonly pending = new Map<string, UsageRow>();
  private readonly totals = new Map<string, SpentTotals>();
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(
    private readonly store: UsageStore,
    private prices: Prices,
    private readonly clock: () => number,
    private readonly log: Logger,
    flushMs = FLUSH_MS,
  ) {
    this.timer = setInterval(() => this.flush(), flushMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  admit(client: BudgetedClient): void {
    const budget = client.budget;
    if (budget === undefined) return;
    const failure = overBudget(client.name, budget, this.totalsOf(client.name), this.clock());
    if (failure) throw failure;
  }

  record(entry: UsageEntry): void {
    const cost = costOf(this.prices, entry.model, entry.prompt, entry.cached, entry.completion);
    const day = utcDay(entry.at);
    const id = rowKey(day, entry.key, entry.model, entry.upstream);
    const sums = { requests: entry.requests ?? 1, prompt: entry.prompt, cached: entry.cached, completion: entry.completion, cost };
    const row = this.pending.get(id);
    if (row) addInto(row, sums);
    else this.pending.set(id, { day, key: entry.key, model: entry.model, upstream: entry.upstream, ...sums });
    const totals = this.totals.get(entry.key);
    if (totals) {
      addSpend(totals, entry.at, entry.prompt + entry.completion, cost);
    }
  }

  async report(since: string, until: string): Promise<UsageRow[]> {
    this.flush();
    return this.store.rows(since, until);
  }

  configure(prices: Prices): void {
    this.prices = prices;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.flush();
    this.store.close();
  }

  /** Write the pending sums; on failure they stay pending and are tried again next time. */
  flush(): void {
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()];
    this.pending.clear();
    try {
      this.store.add(rows);
    } catch (error) {
      this.log.error("could not write the usage ledger; will retry", { error: (error as Error).message, rows: rows.length });
      for (const r of rows) {
        const id = rowKey(r.day, r.key, r.model, r.upstream);
        const row = this.pending.get(id);
        if (row) addInto(row, r);
        else this.pending.set(id, r);
      }
    }
  }

  /** A key's totals, read from the store the first time its budget is checked. */
  private totalsOf(key: string): SpentTotals {
    let totals = this.totals.get(key);
    if (!totals) {
      this.flush();
      const now = this.clock();
      totals = emptyTotals(now);
      const day = this.store.spent(key, totals.day, totals.day);
      const month = this.store.spent(key, `${totals.month}-01`, totals.day);
      totals.dayTokens = day.tokens;
      totals.dayCost = day.cost;
      totals.monthTokens = month.tokens;
      totals.monthCost = month.cost;
      this.totals.set(key, totals);
    }
    return totals;
  }
}
