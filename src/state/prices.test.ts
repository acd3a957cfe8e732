import { expect, test } from "bun:test";
import { costOf, unpriced } from "./prices.ts";

const prices = { "gpt-4o": { input: 2.5, cached_input: 1.25, output: 10 }, mini: { input: 1, output: 4 } };

test("cost: uncached prompt at input, cached at cached_input, completion at output, per 1M", () => {
  // 1000 prompt of which 400 cached, 500 completion
  expect(costOf(prices, "gpt-4o", 1000, 400, 500)).toBeCloseTo((600 * 2.5 + 400 * 1.25 + 500 * 10) / 1e6, 12);
});

test("cost: no cached_input price means cached tokens cost the input price", () => {
  expect(costOf(prices, "mini", 1000, 1000, 0)).toBeCloseTo(1000 / 1e6, 12);
});

test("an unknown model costs 0 and is listed as unpriced", () => {
  expect(costOf(prices, "llama", 1_000_000, 0, 1_000_000)).toBe(0);
  expect(unpriced(prices, ["gpt-4o", "llama", "llama", "none", "abc"])).toEqual(["abc", "llama"]);
});

test("usage parsing keeps the prompt cache's share (prompt_tokens_details.cached_tokens)", async () => {
  const { usageIn } = await import("../stream/usage.ts");
  const body = '{"usage":{"completion_tokens":5,"prompt_tokens":100,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":64},"total_tokens":105}}';
  expect(usageIn(body)).toEqual({ prompt: 100, completion: 5, cached: 64 });
  expect(usageIn('{"usage":{"prompt_tokens":3,"completion_tokens":1}}')).toEqual({ prompt: 3, completion: 1 });
});
