import { describe, expect, test } from "bun:test";
import { AggregatorRegistry } from "prom-client";
import { FastCounter, FastHistogram } from "./fast-series.ts";
import { Counter, Histogram, Registry } from "./prom-client.ts";

const BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5];
type Calls = (c: { inc(l: Record<string, string>, v?: number): void }, h: { observe(l: Record<string, string>, v: number): void }) => void;

/** The same calls on prom-client's classes and on ours, each in its own registry. */
function both(calls: Calls) {
  const theirs = new Registry();
  const ours = new Registry();
  const counter = { name: "t_requests_total", help: "requests", labelNames: ["route", "status"] as const };
  const histogram = { name: "t_duration_seconds", help: "duration", labelNames: ["route", "model"] as const, buckets: BUCKETS };
  calls(
    new Counter({ ...counter, labelNames: [...counter.labelNames], registers: [theirs] }),
    new Histogram({ ...histogram, labelNames: [...histogram.labelNames], registers: [theirs] }),
  );
  calls(new FastCounter({ ...counter, registers: [ours] }), new FastHistogram({ ...histogram, registers: [ours] }));
  return { theirs, ours };
}

const traffic: Calls = (c, h) => {
  for (let i = 0; i < 50; i++) {
    c.inc({ route: i % 3 ? "chat.completions" : "embeddings", status: String(i % 7 ? 200 : 429) });
    // on a bound, between bounds, above the last one, zero
    h.observe({ route: "chat.completions", model: i % 2 ? "gpt-4o" : "other" }, [0.05, 0.07, 0.3, 9, 0, 1][i % 6]!);
  }
  c.inc({ route: "embeddings", status: "200" }, 41);
  // a label value with what the exposition escapes
  c.inc({ route: 'a"b\\c', status: "500" });
};

describe("fast series against prom-client's own classes", () => {
  test("the same /metrics text", async () => {
    const { theirs, ours } = both(traffic);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  test("the same JSON, and the same sum over several workers' registries (cluster/shared-state.ts)", async () => {
    const a = both(traffic);
    const b = both((c, h) => {
      c.inc({ route: "embeddings", status: "200" }, 2);
      h.observe({ route: "chat.completions", model: "gpt-4o" }, 0.2);
      h.observe({ route: "responses", model: "gpt-4o" }, 3);
    });
    expect(await a.ours.getMetricsAsJSON()).toEqual(await a.theirs.getMetricsAsJSON());
    const sum = async (x: Registry, y: Registry) =>
      AggregatorRegistry.aggregate([await x.getMetricsAsJSON(), await y.getMetricsAsJSON()] as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
    expect(await sum(a.ours, b.ours)).toBe(await sum(a.theirs, b.theirs));
  });

  test("nothing observed: no series, as prom-client's labelled metrics", async () => {
    const { theirs, ours } = both(() => {});
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  test("refuses what prom-client refuses (an unknown label, a negative or infinite count, an infinite observation), and NaN too", () => {
    const registry = new Registry();
    const counter = new FastCounter({ name: "x_total", help: "x", labelNames: ["a"], registers: [registry] });
    const histogram = new FastHistogram({ name: "y", help: "y", labelNames: ["a"], buckets: BUCKETS, registers: [registry] });
    const theirs = new Counter({ name: "x_total", help: "x", labelNames: ["a"], registers: [] });
    const theirHistogram = new Histogram({ name: "y", help: "y", labelNames: ["a"], buckets: BUCKETS, registers: [] });
    for (const [ours, prom] of [
      [() => counter.inc({ a: "1", b: "2" } as never), () => theirs.inc({ a: "1", b: "2" } as never)],
      [() => counter.inc({ a: "1" }, -1), () => theirs.inc({ a: "1" }, -1)],
      [() => counter.inc({ a: "1" }, Number.POSITIVE_INFINITY), () => theirs.inc({ a: "1" }, Number.POSITIVE_INFINITY)],
      [() => histogram.observe({ a: "1" }, Number.POSITIVE_INFINITY), () => theirHistogram.observe({ a: "1" }, Number.POSITIVE_INFINITY)],
    ]) {
      expect(prom).toThrow();
      expect(ours).toThrow();
    }
    // prom-client adds NaN to the series, which then reads NaN for good; here it is refused
    expect(() => counter.inc({ a: "1" }, Number.NaN)).toThrow(TypeError);
    expect(() => histogram.observe({ a: "1" }, Number.NaN)).toThrow(TypeError);
  });

  test("a negative observation lands in the first bucket, as in prom-client; reset() empties", async () => {
    const { theirs, ours } = both((_, h) => {
      h.observe({ route: "r", model: "m" }, -2);
      h.observe({ route: "r", model: "m" }, 5);
    });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  test("a label object changed after the call does not change the series", async () => {
    const registry = new Registry();
    const counter = new FastCounter({ name: "z_total", help: "z", labelNames: ["a"], registers: [registry] });
    const labels = { a: "one" };
    counter.inc(labels);
    labels.a = "two";
    expect((await counter.get()).values).toEqual([{ value: 1, labels: { a: "one" } }]);
  });
});
