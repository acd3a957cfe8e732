import { expect, test } from "bun:test";
import { emptyTotals, overBudget } from "./budget.ts";

const NOON = Date.UTC(2026, 11, 31, 12, 0, 0); // 2026-12-31 12:00 UTC

test("within every budget: no refusal", () => {
  const totals = { ...emptyTotals(NOON), dayTokens: 99, monthCost: 4.99 };
  expect(overBudget("alice", { tokens_per_day: 100, usd_per_month: 5 }, totals, NOON)).toBeUndefined();
});

test("past tokens_per_day: insufficient_quota naming the budget and the next UTC midnight", () => {
  const failure = overBudget("alice", { tokens_per_day: 100 }, { ...emptyTotals(NOON), dayTokens: 100 }, NOON)!;
  expect(failure.kind).toBe("quota_exceeded");
  expect(failure.detail.code).toBe("insufficient_quota");
  expect(failure.detail.headers).toEqual({ "x-should-retry": "false" });
  expect(failure.message).toContain("tokens_per_day");
  expect(failure.message).toContain("2027-01-01T00:00:00Z");
});

test("past usd_per_month: resets on the first of next month", () => {
  const failure = overBudget("bob", { usd_per_month: 5 }, { ...emptyTotals(NOON), monthCost: 5.2 }, NOON)!;
  expect(failure.message).toContain("usd_per_month");
  expect(failure.message).toContain("used 5.2000");
  expect(failure.message).toContain("2027-01-01T00:00:00Z");
});

test("a new UTC day starts the day totals at 0, a new month the month totals", () => {
  const totals = { ...emptyTotals(NOON), dayTokens: 500, monthTokens: 500 };
  const nextDay = NOON + 24 * 3600_000; // 2027-01-01: a new month too
  expect(overBudget("alice", { tokens_per_day: 100, tokens_per_month: 400 }, totals, nextDay)).toBeUndefined();
  expect(totals).toMatchObject({ day: "2027-01-01", dayTokens: 0, month: "2027-01", monthTokens: 0 });
});

test("the same month keeps the month totals across days", () => {
  const totals = { ...emptyTotals(Date.UTC(2026, 11, 1, 12)), dayTokens: 500, monthTokens: 500 };
  expect(overBudget("alice", { tokens_per_month: 400 }, totals, Date.UTC(2026, 11, 2, 1))!.message).toContain("tokens_per_month");
  expect(totals.dayTokens).toBe(0);
});
