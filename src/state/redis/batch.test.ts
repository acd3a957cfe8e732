import { expect, test } from "bun:test";
import { RedisBatch } from "./batch.ts";
import { RedisKeys } from "./keys.ts";

test("tokens of seconds no tpm window reads any more are not written (a batch held through an outage)", () => {
  const batch = new RedisBatch(new RedisKeys("p:"));
  const now = 1_000_000_000;
  batch.addTokens("k", now - 120_000, 7); // two minutes old
  batch.addTokens("k", now - 30_000, 5);
  batch.addTokens("old-only", now - 90_000, 3);
  const ops = batch.take(now);
  const second = String(Math.floor((now - 30_000) / 1000));
  expect(ops).toEqual(["i", "p:{k}:tpm", second, "5", "e", "p:{k}:tpm", "61"]);
  expect(batch.empty).toBe(true);
});

test("a key's tokens held through a long outage keep at most a window of seconds", () => {
  const batch = new RedisBatch(new RedisKeys("p:"));
  const start = 2_000_000_000;
  for (let s = 0; s < 3600; s++) batch.addTokens("k", start + s * 1000, 1);
  const ops = batch.take(start + 3599 * 1000);
  // the last 62 seconds (the window and the second it ends in), each once, then the expiry
  expect(ops.filter((op) => op === "i").length).toBe(62);
  expect(ops.slice(-3)).toEqual(["e", "p:{k}:tpm", "61"]);
});
