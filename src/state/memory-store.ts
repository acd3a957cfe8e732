/** The ledger in memory: today's behaviour without `state.path`; gone when the process ends. */
import type { UsageStore } from "./store.ts";
import { addInto, rowKey, type UsageRow } from "./usage-row.ts";

export class MemoryStore implements UsageStore {
  private readonly byKey = new Map<string, UsageRow>();

  add(rows: readonly UsageRow[]): void {
    for (const row of rows) {
      const id = rowKey(row.day, row.key, row.model, row.upstream);
      const held = this.byKey.get(id);
      if (held) addInto(held, row);
      else this.byKey.set(id, { ...row });
    }
  }

  rows(since: string, until: string): UsageRow[] {
    return [...this.byKey.values()].filter((r) => r.day >= since && r.day <= until).map((r) => ({ ...r }));
  }

  spent(key: string, since: string, until: string): { tokens: number; cost: number } {
    let tokens = 0;
    let cost = 0;
    for (const r of this.byKey.values()) {
      if (r.key !== key || r.day < since || r.day > until) continue;
      tokens += r.prompt + r.completion;
      cost += r.cost;
    }
    return { tokens, cost };
  }

  close(): void {}
}
