/** Cost of a call from `prices` (USD per 1M tokens); a model with no price costs 0. */
import type { PriceConfig } from "../config/schema.ts";

export type Prices = Readonly<Record<string, PriceConfig>>;

export function costOf(prices: Prices, model: string, prompt: number, cached: number, completion: number): number {
  const price = prices[model];
  if (!price) return 0;
  const cachedPart = Math.min(cached, prompt);
  return ((prompt - cachedPart) * price.input + cachedPart * (price.cached_input ?? price.input) + completion * price.output) / 1_000_000;
}

/** Models in `models` with no price, for the report to name. */
export function unpriced(prices: Prices, models: Iterable<string>): string[] {
  return [...new Set(models)].filter((m) => !(m in prices) && m !== "none").sort();
}
