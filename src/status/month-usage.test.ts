import { expect, test } from "bun:test";
import { createLogger } from "../lib/log.ts";
import { Accountant } from "../state/accountant.ts";
import { MemoryStore } from "../state/memory-store.ts";
import { MonthUsage } from "./month-usage.ts";

const DAY = 86_400_000;

function ledger(now: { t: number }) {
  const accountant = new Accountant(
    new MemoryStore(),
    { m: { input: 1, output: 1 } },
    () => now.t,
    createLogger("error", "json", () => {}),
  );
  const call = (key: string, at: number, tokens = 10) => accountant.record({ key, model: "m", upstream: "u", prompt: tokens, cached: 0, completion: 0, at });
  return { accountant, call };
}

test("today's rows as they are, the month's earlier days one row per key, last month left out", async () => {
  const now = { t: Date.UTC(2026, 4, 20, 12) };
  const { accountant, call } = ledger(now);
  call("a", now.t);
  call("a", now.t - DAY);
  call("a", now.t - 5 * DAY, 5);
  call("b", now.t - 2 * DAY);
  call("a", Date.UTC(2026, 3, 30, 12), 1000); // April
  const rows = await new MonthUsage(accountant).rows(now.t);
  const today = rows.filter((r) => r.day === "2026-05-20");
  const earlier = rows.filter((r) => r.day !== "2026-05-20");
  expect(today.map((r) => [r.key, r.prompt])).toEqual([["a", 10]]);
  expect(earlier.map((r) => [r.day, r.key, r.requests, r.prompt]).sort()).toEqual([
    ["2026-05-01", "a", 2, 15],
    ["2026-05-01", "b", 1, 10],
  ]);
  await accountant.close();
});

test("the earlier days are read again after a minute, and anew on a new day; on the 1st there are none", async () => {
  const now = { t: Date.UTC(2026, 4, 20, 0, 0, 0, 500) };
  const { accountant, call } = ledger(now);
  const month = new MonthUsage(accountant);
  expect(await month.rows(now.t)).toEqual([]);
  // a call of yesterday written a moment after midnight
  call("a", now.t - 1000);
  const sumEarlier = async () => (await month.rows(now.t)).filter((r) => r.day === "2026-05-01").reduce((n, r) => n + r.prompt, 0);
  expect(await sumEarlier()).toBe(0); // still the minute-old read
  now.t += 60_000;
  expect(await sumEarlier()).toBe(10);
  now.t = Date.UTC(2026, 5, 1, 8);
  call("a", now.t);
  const first = await month.rows(now.t);
  expect(first.map((r) => [r.day, r.key])).toEqual([["2026-06-01", "a"]]);
  await accountant.close();
});
