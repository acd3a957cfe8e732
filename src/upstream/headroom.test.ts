import { describe, expect, test } from "bun:test";
import { Headroom, moveShortBack, REQUESTS_TRUST_MS, TOKENS_TRUST_MS, UTILIZATION_TRUST_MS } from "./headroom.ts";

function setup() {
  let now = 1_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  return { clock, headroom: new Headroom(clock.now) };
}
const h = (values: Record<string, string>) => new Headers(values);

describe("headroom snapshots", () => {
  test("remaining tokens below the estimate: short; what is in flight counts down until it is answered", () => {
    const { headroom } = setup();
    headroom.observe("a", "gpt-4o", h({ "x-ratelimit-remaining-requests": "50", "x-ratelimit-remaining-tokens": "3000" }));
    expect(headroom.shortOf("a", "gpt-4o", 2000, 95)).toBeNull();
    headroom.sent("a", "gpt-4o", 2000);
    expect(headroom.shortOf("a", "gpt-4o", 2000, 95)).toBe("headroom");
    expect(headroom.shortOf("a", "gpt-4o", 1000, 95)).toBeNull();
    // a burst sent before any answer: each in-flight estimate counts against the next snapshot too
    headroom.sent("a", "gpt-4o", 500);
    headroom.observe("a", "gpt-4o", h({ "x-ratelimit-remaining-tokens": "3000" }));
    expect(headroom.shortOf("a", "gpt-4o", 600, 95)).toBe("headroom");
    headroom.settled("a", "gpt-4o", 2000);
    headroom.settled("a", "gpt-4o", 500);
    expect(headroom.shortOf("a", "gpt-4o", 2900, 95)).toBeNull();
  });

  test("zero remaining requests: short, for the requests window only", () => {
    const { headroom, clock } = setup();
    headroom.observe("a", "d", h({ "x-ratelimit-remaining-requests": "0", "x-ratelimit-remaining-tokens": "100000" }));
    expect(headroom.shortOf("a", "d", 10, 95)).toBe("headroom");
    clock.advance(REQUESTS_TRUST_MS);
    expect(headroom.shortOf("a", "d", 10, 95)).toBeNull();
  });

  test("one request left and one sent since: short", () => {
    const { headroom } = setup();
    headroom.observe("a", "d", h({ "x-ratelimit-remaining-requests": "1" }));
    expect(headroom.shortOf("a", "d", 10, 95)).toBeNull();
    headroom.sent("a", "d", 10);
    expect(headroom.shortOf("a", "d", 10, 95)).toBe("headroom");
  });

  test("PTU utilization at or above ptu_spill_at: short by utilization; stale after its trust time", () => {
    const { headroom, clock } = setup();
    headroom.observe("a", "ptu", h({ "azure-openai-deployment-utilization": "95%" }));
    expect(headroom.shortOf("a", "ptu", 10, 95)).toBe("utilization");
    expect(headroom.shortOf("a", "ptu", 10, 96)).toBeNull();
    headroom.observe("a", "ptu", h({ "azure-openai-deployment-utilization": "87.5%" }));
    expect(headroom.shortOf("a", "ptu", 10, 87.5)).toBe("utilization");
    expect(headroom.shortOf("a", "ptu", 10, 90)).toBeNull();
    headroom.observe("a", "ptu", h({ "azure-openai-deployment-utilization": "99.9%" }));
    clock.advance(UTILIZATION_TRUST_MS);
    expect(headroom.shortOf("a", "ptu", 10, 95)).toBeNull();
  });

  test("-1, missing, garbled and stale values are unknown", () => {
    const { headroom, clock } = setup();
    headroom.observe("a", "d", h({ "x-ratelimit-remaining-requests": "-1", "x-ratelimit-remaining-tokens": "-1" }));
    expect(headroom.knows("a", "d")).toBe(false);
    headroom.observe("a", "d", h({ "x-ratelimit-remaining-tokens": "5" }));
    expect(headroom.shortOf("a", "d", 10, 95)).toBe("headroom");
    clock.advance(TOKENS_TRUST_MS);
    expect(headroom.shortOf("a", "d", 10, 95)).toBeNull();
    headroom.observe("a", "d", h({ "x-ratelimit-remaining-tokens": "lots" }));
    expect(headroom.knows("a", "d")).toBe(false);
    expect(headroom.shortOf("b", "never-seen", 1e9, 95)).toBeNull();
  });

  test("a 429 voids the snapshot (its Retry-After rules); the gauge shows what remains after what was sent", () => {
    const { headroom } = setup();
    headroom.observe("a", "d", h({ "x-ratelimit-remaining-requests": "10", "x-ratelimit-remaining-tokens": "5000" }));
    headroom.sent("a", "d", 1200);
    expect([...headroom.current()]).toEqual([
      { upstream: "a", deployment: "d", kind: "requests", value: 9 },
      { upstream: "a", deployment: "d", kind: "tokens", value: 3800 },
    ]);
    headroom.forget("a", "d");
    expect([...headroom.current()]).toEqual([]);
  });

  test("client-chosen names cannot grow it past its bound", () => {
    const { headroom } = setup();
    for (let i = 0; i < 5000; i++) headroom.observe("a", `random-${i}`, h({ "x-ratelimit-remaining-tokens": "5" }));
    expect(headroom.size).toBeLessThanOrEqual(1000);
    expect(headroom.knows("a", "random-4999")).toBe(true);
  });
});

describe("moveShortBack (headroom ordering)", () => {
  const reasons: Record<string, "headroom" | "utilization" | null> = { a: "headroom", b: null, c: "utilization", d: null };
  test("short ones go behind, each group keeping the selector's order, whatever the priority", () => {
    expect(moveShortBack(["a", "b", "c", "d"], (x) => reasons[x]!)).toEqual({ order: ["b", "d", "a", "c"], moved: ["headroom", "utilization"] });
  });
  test("all short, or none: the usual order stands and nothing counts as moved", () => {
    expect(moveShortBack(["a", "c"], (x) => reasons[x]!)).toEqual({ order: ["a", "c"], moved: [] });
    expect(moveShortBack(["b", "d"], (x) => reasons[x]!)).toEqual({ order: ["b", "d"], moved: [] });
  });
});
