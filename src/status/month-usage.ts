/**
 * The ledger rows /admin/status needs: this UTC month's, per key. Reading the whole month on
 * every poll costs in proportion to keys × models × upstreams × days (9,000 rows for 100 keys
 * late in a month: half a millisecond in the memory store, a large IPC answer with workers), yet
 * the days before today no longer change. So the earlier days are read and summed per key at
 * most once a minute (a call finished just before midnight may be written a second after it),
 * and each poll reads only today's rows.
 */
import type { Spending } from "../state/spending.ts";
import { addInto, utcDay, type UsageRow } from "../state/usage-row.ts";

const EARLIER_MAX_AGE_MS = 60_000;

export class MonthUsage {
  private earlier: { readonly today: string; readonly at: number; readonly rows: Promise<UsageRow[]> } | undefined;

  constructor(private readonly spending: Spending) {}

  /** Today's rows as they are, and one row per key for the month's earlier days (its `day` is the month's first). */
  async rows(now: number): Promise<UsageRow[]> {
    const today = utcDay(now);
    const [earlier, current] = await Promise.all([this.earlierDays(today, now), this.spending.report(today, today)]);
    return [...earlier, ...current];
  }

  private earlierDays(today: string, now: number): Promise<UsageRow[]> {
    const first = `${today.slice(0, 7)}-01`;
    if (first === today) return Promise.resolve([]);
    const held = this.earlier;
    if (held && held.today === today && now - held.at < EARLIER_MAX_AGE_MS) return held.rows;
    const yesterday = utcDay(Date.parse(`${today}T00:00:00Z`) - 1);
    const rows = this.spending.report(first, yesterday).then((all) => perKey(all, first));
    const entry = { today, at: now, rows };
    this.earlier = entry;
    rows.catch(() => {
      if (this.earlier === entry) this.earlier = undefined;
    });
    return rows;
  }
}

function perKey(rows: readonly UsageRow[], day: string): UsageRow[] {
  const byKey = new Map<string, UsageRow>();
  for (const row of rows) {
    const held = byKey.get(row.key);
    if (held) addInto(held, row);
    else byKey.set(row.key, { ...row, day, model: "*", upstream: "*" });
  }
  return [...byKey.values()];
}
