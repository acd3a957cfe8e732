/**
 * Where the usage ledger lives: memory (no `state` configured) or a SQLite file
 * (`state.path`). One process writes (a worker pool's primary); `azure-proxy usage` may read the
 * file while the proxy runs (WAL lets a reader and the writer work at once).
 */
import type { UsageRow } from "./usage-row.ts";

export interface UsageStore {
  /** Add these sums to their rows, all or none. */
  add(rows: readonly UsageRow[]): void;
  /** Every row with `since` ≤ day ≤ `until` (YYYY-MM-DD). */
  rows(since: string, until: string): UsageRow[];
  /** Tokens and cost of one key from `since` (a day) on. */
  spent(key: string, since: string, until: string): { tokens: number; cost: number };
  close(): void;
}
