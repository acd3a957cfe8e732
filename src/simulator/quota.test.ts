import { expect, test } from "bun:test";
import { estimateOf, parseQuotaFlag, Quotas } from "./quota.ts";

test("a standard deployment counts down requests and tokens, then refuses until its window ends", () => {
  let now = 0;
  const q = new Quotas({ d: { requests: 3, tokens: 5000, window_ms: 10_000 } }, () => now);
  const headers = new Headers();
  expect(q.admit("d", 2000)).toEqual({ ok: true });
  q.setHeaders("d", headers);
  expect([headers.get("x-ratelimit-remaining-requests"), headers.get("x-ratelimit-remaining-tokens")]).toEqual(["2", "3000"]);
  expect(q.admit("d", 2000)).toEqual({ ok: true });
  now = 4000;
  expect(q.admit("d", 2000)).toEqual({ ok: false, retryAfterMs: 6000 });
  expect(q.admit("d", 500)).toEqual({ ok: true });
  expect(q.admit("d", 1)).toEqual({ ok: false, retryAfterMs: 6000 });
  now = 10_000;
  expect(q.admit("d", 4000)).toEqual({ ok: true });
  expect(q.usage()).toEqual([{ deployment: "d", requests: 1, tokens: 4000, rejected: 2, spilled: 0 }]);
});

test("a provisioned deployment reports utilization instead of remaining counts", () => {
  const q = new Quotas({ p: { tokens: 8000, ptu: true } });
  const headers = new Headers({ "x-ratelimit-remaining-tokens": "99000" });
  q.admit("p", 7000);
  q.setHeaders("p", headers);
  expect(headers.get("azure-openai-deployment-utilization")).toBe("87.5%");
  expect(headers.has("x-ratelimit-remaining-tokens")).toBe(false);
  expect(q.admit("p", 2000).ok).toBe(false);
});

test("Azure's estimate: bytes / 4 plus max_tokens (or 1024); the --quota flag", () => {
  expect(estimateOf('{"max_tokens": 100}')).toBe(Math.ceil(19 / 4) + 100);
  expect(estimateOf("{}")).toBe(1 + 1024);
  expect(parseQuotaFlag("gpt-4o:tokens=5000,requests=10,ptu=1")).toEqual(["gpt-4o", { tokens: 5000, requests: 10, ptu: true }]);
  expect(() => parseQuotaFlag("gpt-4o:bogus=1")).toThrow(/--quota/);
});
