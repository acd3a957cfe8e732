/**
 * A worker's view of the usage ledger and budgets: the primary holds the one Accountant (and
 * the one SQLite writer), workers send it each finished call and ask it before a call of a key
 * with a budget, so N workers spend a key's budget once, not N times. A key without a budget
 * never asks; usage is a fire-and-forget message, which the primary sums into its batch.
 */
import { Failure } from "../lib/failure.ts";
import type { BudgetedClient, Spending } from "../state/spending.ts";
import type { UsageEntry, UsageRow } from "../state/usage-row.ts";
import type { Link } from "./link.ts";
import type { ToPrimary, ToWorker } from "./messages.ts";

const ASK_TIMEOUT_MS = 5000;
const REPORT_TIMEOUT_MS = 30_000;

export class SharedSpending implements Spending {
  constructor(private readonly primary: Link<ToPrimary, ToWorker>) {}

  async admit(client: BudgetedClient): Promise<void> {
    if (client.budget === undefined) return;
    try {
      await this.primary.request({ t: "budget", client: { name: client.name, budget: client.budget } }, ASK_TIMEOUT_MS);
    } catch (error) {
      if (error instanceof Failure) throw error; // the budget's own 429
      // the primary is gone or stuck: refuse rather than spend past a budget unseen
      throw new Failure("internal", `The budget keeper is unavailable: ${(error as Error).message}.`, { code: "budget_unavailable" });
    }
  }

  record(entry: UsageEntry): void {
    this.primary.notify({ t: "usage", entry });
  }

  report(since: string, until: string): Promise<UsageRow[]> {
    return this.primary.request<UsageRow[]>({ t: "usage-report", since, until }, REPORT_TIMEOUT_MS);
  }

  /** The primary prices the calls it records, with the config it sends us. */
  configure(): void {}

  /** The primary writes the ledger when the pool stops. */
  async close(): Promise<void> {}
}
