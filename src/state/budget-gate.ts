/**
 * Budgets in front of the per-key limits: a key past its budget is refused before it counts
 * against its requests per minute. A key without a budget goes straight to the limiter, so
 * the state layer is not on its path at all.
 */
import type { KeyLimits, LimitedClient } from "../ratelimit/limiter.ts";
import type { BudgetedClient, Spending } from "./spending.ts";

export function withBudgets(limits: KeyLimits, spending: Spending): KeyLimits {
  return {
    admit(client: LimitedClient & Partial<BudgetedClient>) {
      if (client.budget === undefined) return limits.admit(client);
      const checked = spending.admit(client as BudgetedClient);
      return checked instanceof Promise ? checked.then(() => limits.admit(client)) : limits.admit(client);
    },
    openStream: (client) => limits.openStream(client),
    addTokens: (key, tokens) => limits.addTokens(key, tokens),
  };
}
