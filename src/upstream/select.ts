/**
 * The order in which a request tries its candidates: by priority; within a priority, a weighted
 * random order (each weight's share of first picks, over many requests); pairs in cooldown
 * last, soonest-available first. Behind a one-method interface so a test can fix the order.
 */
import type { Route } from "../config/resolve.ts";

export interface Selector {
  order(candidates: readonly Route[], availableAt: (route: Route) => number, now: number): Route[];
}

export function weightedSelector(random: () => number = Math.random): Selector {
  return {
    order(candidates, availableAt, now) {
      // one candidate, ready or cooling, has one order (most models have one deployment)
      if (candidates.length === 1) return [candidates[0]!];
      const ready = candidates.filter((c) => availableAt(c) <= now);
      const cooling = candidates.filter((c) => availableAt(c) > now).sort((a, b) => availableAt(a) - availableAt(b));
      const ordered: Route[] = [];
      for (const tier of byPriority(ready)) ordered.push(...weightedShuffle(tier, random));
      return [...ordered, ...cooling];
    },
  };
}

function byPriority(routes: readonly Route[]): Route[][] {
  const tiers = new Map<number, Route[]>();
  for (const r of routes) {
    const tier = tiers.get(r.upstream.priority) ?? [];
    tier.push(r);
    tiers.set(r.upstream.priority, tier);
  }
  return [...tiers.entries()].sort(([a], [b]) => a - b).map(([, t]) => t);
}

/** Draw without replacement, each draw weighted (Efraimidis–Spirakis keys: u^(1/w), largest first). */
function weightedShuffle(routes: readonly Route[], random: () => number): Route[] {
  if (routes.length < 2) return [...routes];
  return routes
    .map((r) => ({ r, key: random() ** (1 / r.upstream.weight) }))
    .sort((a, b) => b.key - a.key)
    .map((x) => x.r);
}
