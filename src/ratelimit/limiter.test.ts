import { describe, expect, test } from "bun:test";
import { Failure } from "../lib/failure.ts";
import { Limiter, type LimitedClient } from "./limiter.ts";

function clocked(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const client = (limits: LimitedClient["limits"]): LimitedClient => ({ name: "alice", limits });

function refusal(fn: () => unknown): Failure {
  try {
    fn();
  } catch (error) {
    if (error instanceof Failure) return error;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("Limiter", () => {
  test("rpm: the request past the limit is a 429 that says when to come back; a minute later it passes", () => {
    const clock = clocked();
    const limiter = new Limiter(clock.now);
    const alice = client({ rpm: 3 });
    for (let i = 0; i < 3; i++) limiter.admit(alice);
    const refused = refusal(() => limiter.admit(alice));
    expect(refused.kind).toBe("rate_limited");
    expect(refused.message).toContain("3 requests per minute");
    expect(Number(refused.detail.headers?.["retry-after"])).toBeGreaterThan(0);
    expect(Number(refused.detail.headers?.["retry-after"])).toBeLessThanOrEqual(60);
    clock.advance(60_000);
    expect(() => limiter.admit(alice)).not.toThrow();
  });

  test("a refused request is not counted: it does not push the window further", () => {
    const clock = clocked();
    const limiter = new Limiter(clock.now);
    const alice = client({ rpm: 1 });
    limiter.admit(alice);
    for (let i = 0; i < 10; i++) refusal(() => limiter.admit(alice));
    clock.advance(60_000);
    expect(() => limiter.admit(alice)).not.toThrow();
  });

  test("tpm: tokens counted after answers refuse the next request once the minute's total reaches the limit", () => {
    const clock = clocked();
    const limiter = new Limiter(clock.now);
    const alice = client({ tpm: 1000 });
    limiter.admit(alice);
    limiter.addTokens("alice", 999);
    limiter.admit(alice);
    limiter.addTokens("alice", 1);
    expect(refusal(() => limiter.admit(alice)).message).toContain("1000 tokens per minute");
    clock.advance(61_000);
    expect(() => limiter.admit(alice)).not.toThrow();
  });

  test("max_streams: a slot is held until given back, and giving it back twice frees one slot only", () => {
    const limiter = new Limiter(clocked().now);
    const alice = client({ maxStreams: 2 });
    const first = limiter.openStream(alice);
    limiter.openStream(alice);
    expect(refusal(() => limiter.openStream(alice)).message).toContain("2 concurrent streams");
    first();
    first();
    expect(() => limiter.openStream(alice)).not.toThrow();
    expect(() => limiter.openStream(alice)).toThrow(Failure);
  });

  test("a key without limits is never counted", () => {
    const limiter = new Limiter(clocked().now);
    const open = client({});
    expect(() => {
      for (let i = 0; i < 10_000; i++) limiter.admit(open);
      for (let i = 0; i < 100; i++) limiter.openStream(open);
    }).not.toThrow();
  });

  test("keys are counted apart", () => {
    const limiter = new Limiter(clocked().now);
    limiter.admit({ name: "alice", limits: { rpm: 1 } });
    expect(() => limiter.admit({ name: "bob", limits: { rpm: 1 } })).not.toThrow();
    expect(refusal(() => limiter.admit({ name: "alice", limits: { rpm: 1 } })).kind).toBe("rate_limited");
  });
});
