import { expect, test } from "bun:test";
import { RedisBatch } from "./batch.ts";
import { RedisKeys } from "./keys.ts";

test("a key's tokens held through a long outage keep at most a window of seconds", () => {
  const batch = new RedisBatch(new RedisKeys("p:"));
  const start = 2_000_000_000;
  for (let s = 0; s < 3600; s++) batch.addTokens("k", start + s * 1000, 1);
  const ops = batch.take();
  // the last 62 seconds (the window and the second it ends in), each once, then the expiry
  expect(ops.slice(0, 4)).toEqual(["i", "p:{k}:tpm", String(Math.floor(start / 1000) + 3599 - 61), "1"]);
  expect(ops.filter((op) => op === "i").length).toBe(62);
  expect(ops.slice(-3)).toEqual(["e", "p:{k}:tpm", "61"]);
});
