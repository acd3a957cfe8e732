/**
 * The last 60 minutes, per minute, for the status page (GET /admin/status): requests, errors by
 * kind, and latency and time-to-first-token histograms from which p50/p99 are read. Prometheus
 * keeps none of this over time by itself; an operator without Grafana still wants "is latency
 * rising".
 *
 * A ring of 60 one-minute slots in typed arrays allocated once: recording a request is a few
 * array writes (a slot that holds an older minute is zeroed in place first), so the cost per
 * request is fixed and nothing grows or is allocated however many requests come. Reading it
 * (`counts`) copies the ring into plain arrays, oldest minute first; counts from several worker
 * processes add up slot by slot (`sumCounts`), and the percentiles are read from the sum, which
 * is why the histograms travel rather than each worker's own p99.
 */
import type { Clock } from "../upstream/health.ts";

export const MINUTES = 60;
const MINUTE_MS = 60_000;

/** Upper bounds (ms) of the latency and TTFT buckets; one more bucket holds what is above the last. */
export const BOUNDS_MS = [
  5, 10, 25, 50, 75, 100, 150, 250, 350, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000,
];
const BUCKETS = BOUNDS_MS.length + 1;

/** What a failed request was, as the page charts it. */
export const ERROR_KINDS = ["rate_limited", "upstream", "timeout", "broken_stream", "auth", "client"] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];
const KIND_INDEX = new Map<ErrorKind, number>(ERROR_KINDS.map((k, i) => [k, i]));

/**
 * The kind of error a finished request was, or null for a success (or a client that left). A
 * stream that started with 200 and then broke is an error too: its client lost the answer.
 */
export function errorKindOf(status: number, end = "complete"): ErrorKind | null {
  if (status === 401 || status === 403) return "auth";
  if (status === 429) return "rate_limited";
  if (status === 408 || status === 504) return "timeout";
  if (status >= 500) return "upstream";
  if (status >= 400) return "client";
  if (end === "complete" || end === "client_closed") return null;
  return end === "upstream_idle" ? "timeout" : "broken_stream";
}

/**
 * The status page's own polls, scrapes and probes are not traffic: counted, they would draw a
 * steady line of requests on an idle proxy (they still count in azure_proxy_requests_total).
 */
export function isOpsPath(path: string): boolean {
  return path === "/status" || path === "/healthz" || path === "/readyz" || path === "/metrics" || path.startsWith("/admin/");
}

/** The ring read out: arrays of MINUTES slots (×kinds or ×buckets), oldest minute first, ending at minute `end`. */
export interface MinuteCounts {
  /** The newest minute (epoch ms / 60 000, floored). */
  readonly end: number;
  readonly requests: number[];
  /** [minute * ERROR_KINDS.length + kind] */
  readonly errors: number[];
  /** [minute * BUCKETS + bucket] */
  readonly latency: number[];
  readonly ttft: number[];
}

export class MinuteSeries {
  /** The minute each slot holds now; -1: never used. */
  private readonly minuteOf = new Float64Array(MINUTES).fill(-1);
  private readonly requests = new Uint32Array(MINUTES);
  private readonly errors = new Uint32Array(MINUTES * ERROR_KINDS.length);
  private readonly latency = new Uint32Array(MINUTES * BUCKETS);
  private readonly ttft = new Uint32Array(MINUTES * BUCKETS);

  constructor(private readonly clock: Clock = Date.now) {}

  /** One finished request; `ttftMs` when its first byte was timed. */
  record(status: number, end: string, latencyMs: number, ttftMs: number | undefined): void {
    const slot = this.slotNow();
    this.requests[slot]!++;
    const kind = errorKindOf(status, end);
    if (kind !== null) this.errors[slot * ERROR_KINDS.length + KIND_INDEX.get(kind)!]!++;
    this.latency[slot * BUCKETS + bucketOf(latencyMs)]!++;
    if (ttftMs !== undefined) this.ttft[slot * BUCKETS + bucketOf(ttftMs)]!++;
  }

  /** A copy of the last MINUTES minutes, oldest first (minutes with no request are zeros). */
  counts(): MinuteCounts {
    const end = Math.floor(this.clock() / MINUTE_MS);
    const out = emptyCounts(end);
    for (let i = 0; i < MINUTES; i++) {
      const minute = end - (MINUTES - 1 - i);
      const slot = minute % MINUTES;
      if (this.minuteOf[slot] !== minute) continue;
      out.requests[i] = this.requests[slot]!;
      copy(this.errors, slot, out.errors, i, ERROR_KINDS.length);
      copy(this.latency, slot, out.latency, i, BUCKETS);
      copy(this.ttft, slot, out.ttft, i, BUCKETS);
    }
    return out;
  }

  private slotNow(): number {
    const minute = Math.floor(this.clock() / MINUTE_MS);
    const slot = minute % MINUTES;
    if (this.minuteOf[slot] !== minute) {
      this.minuteOf[slot] = minute;
      this.requests[slot] = 0;
      this.errors.fill(0, slot * ERROR_KINDS.length, (slot + 1) * ERROR_KINDS.length);
      this.latency.fill(0, slot * BUCKETS, (slot + 1) * BUCKETS);
      this.ttft.fill(0, slot * BUCKETS, (slot + 1) * BUCKETS);
    }
    return slot;
  }
}

export function emptyCounts(end: number): MinuteCounts {
  return {
    end,
    requests: new Array<number>(MINUTES).fill(0),
    errors: new Array<number>(MINUTES * ERROR_KINDS.length).fill(0),
    latency: new Array<number>(MINUTES * BUCKETS).fill(0),
    ttft: new Array<number>(MINUTES * BUCKETS).fill(0),
  };
}

/** Several processes' counts added minute by minute, aligned on the newest `end` among them. */
export function sumCounts(parts: readonly MinuteCounts[]): MinuteCounts {
  const end = parts.reduce((max, p) => Math.max(max, p.end), 0);
  const out = emptyCounts(end);
  for (const part of parts) {
    // a part read just before a minute turned is one slot behind
    const shift = end - part.end;
    for (let i = shift; i < MINUTES; i++) {
      const from = i;
      const to = i - shift;
      out.requests[to]! += part.requests[from]!;
      add(part.errors, from, out.errors, to, ERROR_KINDS.length);
      add(part.latency, from, out.latency, to, BUCKETS);
      add(part.ttft, from, out.ttft, to, BUCKETS);
    }
  }
  return out;
}

/** What /admin/status shows: per minute, oldest first; a percentile is null in a minute without samples. */
export interface Series {
  /** Epoch ms of the first (oldest) minute's start. */
  readonly start_ms: number;
  readonly minute_ms: number;
  readonly requests: number[];
  readonly errors: Record<ErrorKind, number[]>;
  readonly latency_p50_ms: Array<number | null>;
  readonly latency_p99_ms: Array<number | null>;
  readonly ttft_p50_ms: Array<number | null>;
  readonly ttft_p99_ms: Array<number | null>;
}

export function seriesOf(counts: MinuteCounts): Series {
  const errors = Object.fromEntries(ERROR_KINDS.map((kind, k) => [kind, counts.requests.map((_, i) => counts.errors[i * ERROR_KINDS.length + k]!)])) as Record<
    ErrorKind,
    number[]
  >;
  const quantiles = (hist: number[], q: number) => counts.requests.map((_, i) => quantile(hist, i * BUCKETS, q));
  return {
    start_ms: (counts.end - MINUTES + 1) * MINUTE_MS,
    minute_ms: MINUTE_MS,
    requests: counts.requests,
    errors,
    latency_p50_ms: quantiles(counts.latency, 0.5),
    latency_p99_ms: quantiles(counts.latency, 0.99),
    ttft_p50_ms: quantiles(counts.ttft, 0.5),
    ttft_p99_ms: quantiles(counts.ttft, 0.99),
  };
}

/**
 * The q-quantile of one minute's histogram (BUCKETS counts from `at`), interpolated linearly
 * within its bucket as Prometheus' histogram_quantile does; above the last bound, that bound.
 */
export function quantile(hist: ArrayLike<number>, at: number, q: number): number | null {
  let total = 0;
  for (let b = 0; b < BUCKETS; b++) total += hist[at + b]!;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let b = 0; b < BUCKETS; b++) {
    const n = hist[at + b]!;
    if (seen + n >= rank && n > 0) {
      if (b === BOUNDS_MS.length) return BOUNDS_MS[b - 1]!;
      const lower = b === 0 ? 0 : BOUNDS_MS[b - 1]!;
      const upper = BOUNDS_MS[b]!;
      return Math.round((lower + ((upper - lower) * (rank - seen)) / n) * 10) / 10;
    }
    seen += n;
  }
  return BOUNDS_MS[BOUNDS_MS.length - 1]!;
}

function bucketOf(ms: number): number {
  // a binary search: 5 comparisons for 26 buckets
  let lo = 0;
  let hi = BOUNDS_MS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ms <= BOUNDS_MS[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function copy(from: Uint32Array, slot: number, to: number[], i: number, width: number): void {
  for (let k = 0; k < width; k++) to[i * width + k] = from[slot * width + k]!;
}

function add(from: number[], i: number, to: number[], j: number, width: number): void {
  for (let k = 0; k < width; k++) to[j * width + k]! += from[i * width + k]!;
}
