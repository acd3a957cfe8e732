import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../lib/log.ts";
import { Accountant } from "./accountant.ts";
import { MemoryStore } from "./memory-store.ts";
import { SqliteStore } from "./sqlite-store.ts";
import type { UsageRow } from "./usage-row.ts";

const log = createLogger("error", "json", () => {});
const prices = { "gpt-4o": { input: 2.5, cached_input: 1.25, output: 10 } };
const T0 = Date.UTC(2026, 11, 1, 23, 59, 0);
const call = (key: string, at: number, prompt = 100, completion = 50) => ({ key, model: "gpt-4o", upstream: "east", prompt, cached: 20, completion, at });

/** A store that counts its writes. */
class CountingStore extends MemoryStore {
  writes = 0;
  override add(rows: readonly UsageRow[]): void {
    this.writes++;
    super.add(rows);
  }
}

test("calls are summed in memory and written in one batch per flush, per (day, key, model, upstream)", async () => {
  const store = new CountingStore();
  const accountant = new Accountant(store, prices, () => T0, log, 60_000);
  for (let i = 0; i < 100; i++) accountant.record(call("alice", T0));
  accountant.record(call("alice", T0 + 120_000)); // the next UTC day
  expect(store.writes).toBe(0);
  accountant.flush();
  expect(store.writes).toBe(1);
  const rows = store.rows("2026-12-01", "2026-12-02");
  expect(rows.map((r) => [r.day, r.requests, r.prompt, r.cached, r.completion])).toEqual([
    ["2026-12-01", 100, 10_000, 2000, 5000],
    ["2026-12-02", 1, 100, 20, 50],
  ]);
  expect(rows[0]!.cost).toBeCloseTo(100 * ((80 * 2.5 + 20 * 1.25 + 50 * 10) / 1e6), 10);
  await accountant.close();
});

test("a budget counts what was spent before the first check and every call after it, until the day turns", () => {
  let now = T0;
  const store = new MemoryStore();
  const accountant = new Accountant(store, prices, () => now, log, 60_000);
  const alice = { name: "alice", budget: { tokens_per_day: 400 } };
  accountant.record(call("alice", now)); // 150 tokens, still pending: the first check sees it
  accountant.admit(alice);
  accountant.record(call("alice", now));
  accountant.admit(alice); // 300
  accountant.record(call("alice", now)); // 450
  expect(() => accountant.admit(alice)).toThrow(/tokens_per_day/);
  expect(() => accountant.admit({ name: "bob", budget: { tokens_per_day: 400 } })).not.toThrow();
  now += 120_000; // past midnight UTC
  expect(() => accountant.admit(alice)).not.toThrow();
});

test("a failed write keeps the rows and writes them next time", () => {
  const store = new MemoryStore();
  let failing = true;
  const original = store.add.bind(store);
  store.add = (rows) => {
    if (failing) throw new Error("disk full");
    original(rows);
  };
  const accountant = new Accountant(store, prices, () => T0, log, 60_000);
  accountant.record(call("alice", T0));
  accountant.flush();
  accountant.record(call("alice", T0));
  failing = false;
  accountant.flush();
  expect(store.rows("2026-12-01", "2026-12-01")[0]).toMatchObject({ requests: 2, prompt: 200 });
});

test("SQLite: rows sum in place, survive reopening, and a read-only open sees them", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "azure-proxy-sqlite-")), "state.db");
  const row = { day: "2026-12-01", key: "alice", model: "gpt-4o", upstream: "east", requests: 1, prompt: 10, cached: 2, completion: 5, cost: 0.5 };
  const first = await SqliteStore.open(path);
  first.add([row, { ...row, day: "2026-12-02" }]);
  first.add([row]);
  first.close();
  const again = await SqliteStore.open(path, true);
  expect(again.rows("2026-12-01", "2026-12-01")).toEqual([{ ...row, requests: 2, prompt: 20, cached: 4, completion: 10, cost: 1 }]);
  expect(again.spent("alice", "2026-12-01", "2026-12-31")).toEqual({ tokens: 45, cost: 1.5 });
  expect(again.spent("bob", "2026-12-01", "2026-12-31")).toEqual({ tokens: 0, cost: 0 });
  again.close();
});
