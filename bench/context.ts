/** What every phase gets: the mode's sizes, the running targets, and the load-core runners. */
import { resolve } from "node:path";
import type { Mock } from "./mock-control.ts";
import { runToEnd, watchInterference } from "./lib/procs.ts";
import type { Target } from "./targets.ts";

/** Core 0: mock upstream, load generators, this script. Core 1: the proxy under test. */
export const LOAD_CORE = 0;
export const PROXY_CORE = 1;

export interface Mode {
  name: "quick" | "full";
  warmSec: number;
  latencySec: number;
  /** latency and TTFT are measured in this many round-robin slices; each figure is the median
   *  of the slices' figures, so a burst of other work spoils one slice, not the result */
  rounds: number;
  throughputSec: number;
  throughputConnections: number;
  ttftStreams: number;
  /** time to first token with this many streams opened together (issue 12's "100 streams") */
  ttftBurst: number;
  /** bursts per target, round-robin; the figure is the median of their p99s */
  ttftBurstRounds: number;
  streamChunks: number;
  streamDelayMs: number;
  concurrencies: number[];
  aborts: number;
  abortRounds: number;
  /** also abort streams through nginx, for comparison */
  abortsNginx: boolean;
  slowReaderSec: number;
  startupRuns: number;
  upload: boolean;
  /** also run ours with LOG_LEVEL=warn, to price the per-request log line */
  quietRun: boolean;
}

export const QUICK: Mode = {
  name: "quick",
  // JIT tiers up over the first seconds: a shorter warm-up shows in the p99s
  warmSec: 2,
  latencySec: 4,
  rounds: 2,
  throughputSec: 5,
  throughputConnections: 50,
  ttftStreams: 300,
  ttftBurst: 100,
  ttftBurstRounds: 4,
  streamChunks: 64,
  streamDelayMs: 20,
  concurrencies: [1, 100, 1000],
  aborts: 10_000,
  abortRounds: 1,
  abortsNginx: false,
  slowReaderSec: 6,
  startupRuns: 10,
  upload: false,
  quietRun: false,
};

export const FULL: Mode = {
  ...QUICK,
  name: "full",
  warmSec: 2,
  latencySec: 15,
  rounds: 3,
  throughputSec: 15,
  ttftStreams: 2000,
  ttftBurstRounds: 8,
  abortRounds: 2,
  abortsNginx: true,
  slowReaderSec: 30,
  startupRuns: 20,
  upload: true,
  quietRun: true,
};

export interface Ctx {
  mode: Mode;
  bun: string;
  binary: string;
  dir: string;
  mock: Mock;
  direct: Target;
  nginx: Target;
  ours: Target;
  /** a minimal compiled Bun proxy (floor-proxy.ts): the runtime's share of the cost */
  floor: Target;
  progress(message: string): void;
}

const SSE_CLIENT = resolve(import.meta.dir, "sse-client.ts");

export interface SseReport {
  streams: number;
  wall_ms: number;
  errors: number;
  first_error?: string;
  frames_total: number;
  frames_min: number;
  frames_max: number;
  completed: number;
  ttfe_ms: { n: number; p50: number; p99: number; max: number };
  stream_ms: { n: number; p50: number; p99: number; max: number };
  deadline_hit: boolean;
}

export interface SseJob {
  mode: "ttft" | "streams" | "abort";
  n?: number;
  concurrency?: number;
  abortAfter?: number;
  warmup?: number;
  deadlineMs: number;
  /** names the run in the interference warning (default: mode, concurrency, target) */
  label?: string;
}

/** Run the SSE client (sse-client.ts) on the load core against a target. */
export async function sseClient(ctx: Ctx, target: Target, job: SseJob): Promise<SseReport> {
  const full = {
    ...job,
    url: target.chatUrl,
    headers: { "content-type": "application/json", [target.keyHeader[0]]: target.keyHeader[1] },
    body: target.body(true),
  };
  const done = watchInterference(job.label ?? `sse ${job.mode}${job.concurrency ? ` x${job.concurrency}` : ""} ${target.name}`);
  const out = await runToEnd([ctx.bun, SSE_CLIENT, JSON.stringify(full)], {
    core: LOAD_CORE,
    env: { BUN_CONFIG_MAX_HTTP_REQUESTS: "8192" },
    timeoutMs: job.deadlineMs + 15_000,
  });
  done();
  return JSON.parse(out.trim().split("\n").at(-1)!) as SseReport;
}

/**
 * TIME_WAIT sockets to or from a port that appeared since this call (`ss -tan state
 * time-wait`). A TIME_WAIT socket lives 60 s, so sockets of earlier phases are still there, or
 * expire mid-phase: we count the ones that were not there at the start.
 */
export function timeWaitSince(port: number): () => number {
  const list = () => {
    const r = Bun.spawnSync(["ss", "-Htan", "state", "time-wait", `( dport = :${port} or sport = :${port} )`], { stdout: "pipe" });
    return r.stdout
      .toString()
      .split("\n")
      .map((l) => l.trim().split(/\s+/).slice(2, 4).join(" "))
      .filter(Boolean);
  };
  const before = new Set(list());
  return () => list().filter((socket) => !before.has(socket)).length;
}
