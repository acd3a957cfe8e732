import { describe, expect, test } from "bun:test";
import { Health } from "./health.ts";

function clocked() {
  let now = 5_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("cooldowns", () => {
  test("a deployment's cooldown leaves the resource's other deployments alone; a resource's covers all", () => {
    const clock = clocked();
    const health = new Health(clock.now);
    void health.coolDown("east", "gpt-4o", 1000);
    expect(health.availableAt("east", "gpt-4o")).toBe(clock.now() + 1000);
    expect(health.availableAt("east", "gpt-4.1")).toBe(0);
    void health.coolDown("east", null, 2000);
    expect(health.availableAt("east", "gpt-4.1")).toBe(clock.now() + 2000);
    clock.advance(2000);
    expect(health.availableAt("east", "gpt-4o")).toBe(0);
  });

  test("a soft cooldown (our guess) is a last resort; Azure's Retry-After is not", () => {
    const clock = clocked();
    const health = new Health(clock.now);
    void health.coolDown("east", "a", 1000, true);
    expect(health.availableAt("east", "a")).toBeGreaterThan(clock.now());
    expect(health.lastResort("east", "a")).toBe(true);
    void health.coolDown("east", "a", 500);
    expect(health.lastResort("east", "a")).toBe(false);
    expect(
      health
        .cooling()
        .map((c) => c.soft ?? false)
        .sort(),
    ).toEqual([false, true]);
  });

  test("client-chosen deployment names cannot grow the map without bound; a resource's cooldown is never evicted", () => {
    const clock = clocked();
    const health = new Health(clock.now, undefined, 100);
    void health.coolDown("east", null, 60_000);
    for (let i = 0; i < 1000; i++) void health.coolDown("east", `name-${i}`, 10_000 + i);
    expect(health.size).toBeLessThanOrEqual(101);
    expect(health.availableAt("other-deployment-on-east", "x")).toBe(0);
    expect(health.availableAt("east", "anything")).toBe(clock.now() + 60_000);
    // once full, expired entries are swept before any live one is dropped
    clock.advance(20_000);
    for (let i = 0; i < 20; i++) void health.coolDown("east", `fresh-${i}`, 1000);
    expect(health.size).toBeLessThanOrEqual(22);
    for (let i = 0; i < 20; i++) expect(health.availableAt("east", `fresh-${i}`)).toBe(clock.now() + 60_000 - 20_000);
  });

  test("deployments named by clients (any_model) cooling at once are capped; configured ones are not", async () => {
    const { MAX_OPEN_COOLDOWNS } = await import("./health.ts");
    const clock = clocked();
    const health = new Health(clock.now);
    for (let i = 0; i < MAX_OPEN_COOLDOWNS + 50; i++) void health.coolDown("east", `client-${i}`, 10_000, false, true);
    expect(health.cooling().length).toBe(MAX_OPEN_COOLDOWNS);
    void health.coolDown("east", "configured", 10_000);
    expect(health.availableAt("east", "configured")).toBeGreaterThan(0);
    clock.advance(10_000);
    void health.coolDown("east", "client-new", 10_000, false, true);
    expect(health.availableAt("east", "client-new")).toBeGreaterThan(0);
  });

  test("a name with a slash is not mistaken for a resource", () => {
    const clock = clocked();
    const health = new Health(clock.now);
    void health.coolDown("east", "a/*", 1000);
    expect(health.cooling()).toEqual([{ upstream: "east", deployment: "a/*", until: clock.now() + 1000 }]);
    expect(health.availableAt("east", "b")).toBe(0);
  });

  test("the pairs cooling at a given time: what cooled at t, even once the clock is past its end, until a routing call drops it", () => {
    const clock = clocked();
    const health = new Health(clock.now);
    void health.coolDown("east", "gpt-4o", 1000);
    const reportTime = clock.now();
    clock.advance(1000);
    expect(health.cooling()).toEqual([]);
    expect(health.cooling(reportTime)).toEqual([{ upstream: "east", deployment: "gpt-4o", until: reportTime + 1000 }]);
    expect(health.cooling(reportTime + 1000)).toEqual([]);
    // so /admin/status takes its pairs before anything else runs (http/admin-status.ts)
    expect(health.availableAt("east", "gpt-4o")).toBe(0);
    expect(health.cooling(reportTime)).toEqual([]);
  });
});
