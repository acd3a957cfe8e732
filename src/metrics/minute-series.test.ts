import { expect, test } from "bun:test";
import { errorKindOf, MINUTES, MinuteSeries, seriesOf, sumCounts } from "./minute-series.ts";

const MINUTE = 60_000;

function series(start = 1_000 * MINUTE) {
  const clock = { now: start };
  return { clock, minutes: new MinuteSeries(() => clock.now) };
}

test("requests, errors by kind and percentiles land in the current minute", () => {
  const { minutes } = series();
  for (let i = 0; i < 96; i++) minutes.record(200, "complete", 100, 40);
  minutes.record(429, "complete", 5, undefined);
  minutes.record(200, "upstream_broke", 9000, 300);
  minutes.record(200, "complete", 9000, 300);
  minutes.record(200, "complete", 9000, 300);
  const s = seriesOf(minutes.counts());
  expect(s.requests.length).toBe(MINUTES);
  expect(s.requests[MINUTES - 1]).toBe(100);
  expect(s.requests.slice(0, MINUTES - 1).every((n) => n === 0)).toBe(true);
  expect(s.errors.rate_limited[MINUTES - 1]).toBe(1);
  expect(s.errors.broken_stream[MINUTES - 1]).toBe(1);
  expect(s.errors.upstream[MINUTES - 1]).toBe(0);
  // 96 of 100 at 100 ms, 3 at 9 s: the median is in the (75, 100] bucket, p99 in the slow one
  expect(s.latency_p50_ms[MINUTES - 1]!).toBeGreaterThan(75);
  expect(s.latency_p50_ms[MINUTES - 1]!).toBeLessThanOrEqual(100);
  expect(s.latency_p99_ms[MINUTES - 1]!).toBeGreaterThan(7500);
  expect(s.ttft_p50_ms[MINUTES - 1]!).toBeLessThanOrEqual(50);
  expect(s.latency_p50_ms[0]).toBeNull();
  expect(s.start_ms).toBe((1_000 - MINUTES + 1) * MINUTE);
});

test("minutes move along the ring; a slot reused an hour later starts from zero", () => {
  const { clock, minutes } = series();
  minutes.record(200, "complete", 10, undefined);
  clock.now += MINUTE;
  minutes.record(200, "complete", 10, undefined);
  minutes.record(500, "complete", 10, undefined);
  let s = seriesOf(minutes.counts());
  expect(s.requests.slice(-2)).toEqual([1, 2]);
  expect(s.errors.upstream.slice(-2)).toEqual([0, 1]);
  // an hour after the first minute: it has left the window, and its slot holds the new minute
  clock.now += (MINUTES - 1) * MINUTE;
  s = seriesOf(minutes.counts());
  expect([s.requests[0], s.requests[MINUTES - 1]]).toEqual([2, 0]);
  expect(s.requests.reduce((a, b) => a + b)).toBe(2);
  minutes.record(200, "complete", 10, undefined);
  s = seriesOf(minutes.counts());
  expect([s.requests[0], s.requests[MINUTES - 1]]).toEqual([2, 1]);
  expect(s.requests.reduce((a, b) => a + b)).toBe(3);
  // two hours of silence: nothing left
  clock.now += 2 * MINUTES * MINUTE;
  expect(seriesOf(minutes.counts()).requests.every((n) => n === 0)).toBe(true);
});

test("counts from several processes add up, aligned on the newest minute", () => {
  const a = series();
  const b = series();
  a.minutes.record(200, "complete", 100, undefined);
  b.minutes.record(200, "complete", 100, undefined);
  b.minutes.record(504, "complete", 100, undefined);
  const behind = a.minutes.counts();
  // b is read a minute later: a's counts stand one slot further back
  b.clock.now += MINUTE;
  b.minutes.record(200, "complete", 2000, undefined);
  const sum = seriesOf(sumCounts([behind, b.minutes.counts()]));
  expect(sum.requests.slice(-2)).toEqual([3, 1]);
  expect(sum.errors.timeout.slice(-2)).toEqual([1, 0]);
  expect(sum.latency_p50_ms[MINUTES - 1]!).toBeGreaterThan(1500);
});

test("error kinds follow the status a client saw", () => {
  expect([401, 403, 429, 408, 504, 502, 400, 413].map((s) => errorKindOf(s))).toEqual([
    "auth",
    "auth",
    "rate_limited",
    "timeout",
    "timeout",
    "upstream",
    "client",
    "client",
  ]);
  expect(errorKindOf(200, "client_closed")).toBeNull();
  expect(errorKindOf(200, "upstream_idle")).toBe("timeout");
  expect(errorKindOf(201)).toBeNull();
});

test("recording allocates nothing: a million requests leave the heap where it was", () => {
  const { minutes } = series();
  for (let i = 0; i < 10_000; i++) minutes.record(200, "complete", i % 5000, i % 300);
  Bun.gc(true);
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  for (let i = 0; i < 1_000_000; i++) minutes.record(i % 50 === 0 ? 429 : 200, "complete", i % 5000, i % 300);
  const perRequestNs = ((performance.now() - started) * 1e6) / 1_000_000;
  Bun.gc(true);
  expect(process.memoryUsage().heapUsed - before).toBeLessThan(256 * 1024);
  // a fixed cost per request, far below anything a request itself costs
  expect(perRequestNs).toBeLessThan(2000);
});
