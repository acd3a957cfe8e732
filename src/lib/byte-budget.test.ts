import { describe, expect, test } from "bun:test";
import { ByteBudget } from "./byte-budget.ts";

describe("ByteBudget", () => {
  test("claims grow to the bound, are refused past it, and give everything back once", () => {
    const budget = new ByteBudget(100);
    const a = budget.claim();
    const b = budget.claim();
    expect(a.holdUpTo(60)).toBe(true);
    expect(a.holdUpTo(40)).toBe(true); // never shrinks
    expect(a.bytes).toBe(60);
    expect(b.holdUpTo(41)).toBe(false);
    expect(b.bytes).toBe(0);
    expect(b.holdUpTo(40)).toBe(true);
    expect(budget.inUse).toBe(100);
    a.release();
    a.release();
    expect(budget.inUse).toBe(40);
    expect(a.holdUpTo(1)).toBe(false); // a released claim holds nothing again
    b.release();
    expect(budget.inUse).toBe(0);
  });
});
