import { describe, expect, test } from "bun:test";
import type { Route, UpstreamTarget } from "../config/resolve.ts";
import { weightedSelector } from "./select.ts";

function route(name: string, priority: number, weight: number): Route {
  const upstream: UpstreamTarget = {
    name,
    endpoint: `https://${name}.openai.azure.com`,
    apiVersion: "2024-10-21",
    style: "dated",
    priority,
    weight,
    credential: { api_key: "k" },
  } as UpstreamTarget;
  return { upstream, deployment: "gpt-4o", maxCompletionTokens: false, spillover: undefined } as Route;
}

/** A seeded source (mulberry32): the same order every run, yet uniform enough for shares. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NOW = 1_000_000;
const ready = () => 0;

describe("weightedSelector", () => {
  test("a lower priority number goes first, whatever the weights", () => {
    const primary = route("primary", 1, 1);
    const backupHeavy = route("backup", 2, 100);
    const selector = weightedSelector(seeded(1));
    for (let i = 0; i < 50; i++) expect(selector.order([backupHeavy, primary], ready, NOW)[0]).toBe(primary);
  });

  test("within a priority, each weight gets its share of first picks", () => {
    const heavy = route("heavy", 1, 3);
    const light = route("light", 1, 1);
    const selector = weightedSelector(seeded(42));
    let heavyFirst = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) if (selector.order([light, heavy], ready, NOW)[0] === heavy) heavyFirst++;
    // 3:1 weights: three quarters of first picks, within a percent over 20 000 draws
    expect(heavyFirst / n).toBeGreaterThan(0.74);
    expect(heavyFirst / n).toBeLessThan(0.76);
  });

  test("deployments cooling down come last, the one available soonest first", () => {
    const a = route("a", 1, 1);
    const b = route("b", 1, 1);
    const c = route("c", 2, 1);
    const until = new Map([
      [a, NOW + 5000],
      [b, NOW + 1000],
    ]);
    const order = weightedSelector(seeded(7)).order([a, b, c], (r) => until.get(r) ?? 0, NOW);
    expect(order).toEqual([c, b, a]);
  });

  test("every candidate appears once", () => {
    const routes = [route("a", 1, 1), route("b", 1, 2), route("c", 2, 1), route("d", 3, 5)];
    const order = weightedSelector(seeded(3)).order(routes, ready, NOW);
    expect(new Set(order).size).toBe(routes.length);
  });
});
