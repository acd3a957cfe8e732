/**
 * What the request path asks of the state layer: admit a key with a budget (before the call),
 * record a finished call (after it), and read the ledger back. Answered in this process by an
 * Accountant, or, in a worker of a pool, by asking the primary (cluster/shared-spending.ts).
 */
import type { Client } from "../config/client.ts";
import type { Prices } from "./prices.ts";
import type { UsageEntry, UsageRow } from "./usage-row.ts";

export type BudgetedClient = Pick<Client, "name" | "budget">;

export interface Spending {
  /** Throws the 429 insufficient_quota of a key past a budget; a key without one never gets here. */
  admit(client: BudgetedClient): void | Promise<void>;
  record(entry: UsageEntry): void;
  /** The ledger's rows for `since` ≤ day ≤ `until`, with what is not written yet. */
  report(since: string, until: string): Promise<UsageRow[]>;
  /** Prices for the calls recorded from now on (a config reload). */
  configure(prices: Prices): void;
  /** Write what is pending and let go of the store. */
  close(): Promise<void>;
}
