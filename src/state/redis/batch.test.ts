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
