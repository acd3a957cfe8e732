/**
 * Streaming: time to the first SSE data event (sequential streams), then 1, 100 and 1000
 * streams at once, each `streamChunks` Azure chunks `streamDelayMs` apart, with every data event
 * counted (zero lost is the goal). The 1000-stream run is repeated on a second copy of the binary
 * started with BUN_CONFIG_MAX_HTTP_REQUESTS=4096: Bun's fetch runs at most 256 requests at once
 * (read at process start), so without it streams 257+ should wait for a slot; the mock's
 * "in flight at once" and the first-event times show whether they do.
 */
import { PROXY_CORE, sseClient, timeWaitSince, type Ctx, type SseReport } from "../context.ts";
import { cpuMs, freePort, rssSampler } from "../lib/procs.ts";
import { percentile, round } from "../lib/stats.ts";
import { row, type Row, type Section } from "../report.ts";
import { proxiedTarget, startOurs, type Target } from "../targets.ts";

export interface StreamRun extends SseReport {
  expected_frames: number;
  lost_frames: number;
  upstream_in_flight_max: number;
  upstream_connections: number;
  time_wait_added: number;
  peak_rss_mb: number | null;
  /** CPU time of the process under test per data event it relayed */
  cpu_us_per_frame: number | null;
}

async function concurrent(ctx: Ctx, target: Target, streams: number): Promise<StreamRun> {
  await ctx.mock.reset();
  const timeWaits = timeWaitSince(ctx.mock.port);
  const sampler = target.pid ? rssSampler(target.pid) : null;
  const cpu0 = target.pid ? cpuMs(target.pid) : 0;
  const ideal = ctx.mode.streamChunks * ctx.mode.streamDelayMs;
  const r = await sseClient(ctx, target, { mode: "streams", concurrency: streams, deadlineMs: 30_000 + ideal * 10 });
  const peak = sampler?.stop() ?? null;
  const cpu = target.pid ? cpuMs(target.pid) - cpu0 : NaN;
  const stats = await ctx.mock.stats();
  const expected = streams * target.expectedFrames(ctx.mode.streamChunks + 1);
  return {
    ...r,
    expected_frames: expected,
    lost_frames: expected - r.frames_total,
    upstream_in_flight_max: stats.maxActiveStreams,
    upstream_connections: stats.connections,
    time_wait_added: timeWaits(),
    peak_rss_mb: peak === null ? null : round(peak, 1),
    cpu_us_per_frame: target.pid ? round((cpu * 1000) / Math.max(1, r.frames_total), 1) : null,
  };
}

export async function streamPhase(ctx: Ctx) {
  const targets = [ctx.direct, ctx.nginx, ctx.ours];
  const rows: Row[] = [];

  // Time to first token: the mock writes its first two events at once, so every target's first
  // data event is the same write (ours drops the first of them, the prompt-filter chunk).
  await ctx.mock.configure({ chunks: 16, delayMs: 0 });
  const slices: Record<string, SseReport[]> = {};
  for (let round = 1; round <= ctx.mode.rounds; round++) {
    for (const t of targets) {
      ctx.progress(`time to first token, ${ctx.mode.ttftStreams / ctx.mode.rounds} streams in sequence, slice ${round}/${ctx.mode.rounds}: ${t.name}`);
      const n = Math.round(ctx.mode.ttftStreams / ctx.mode.rounds);
      const slice = slices[t.name] ?? [];
      slices[t.name] = slice;
      slice.push(await sseClient(ctx, t, { mode: "ttft", n, warmup: round === 1 ? 50 : 10, deadlineMs: 120_000 }));
    }
  }
  // per-figure median over the slices: a burst of other work spoils one slice, not the result
  const med = (name: string, k: "p50" | "p99" | "max") =>
    percentile(
      slices[name]!.map((r) => r.ttfe_ms[k]),
      50,
    );
  const ttft = Object.fromEntries(targets.map((t) => [t.name, { p50: med(t.name, "p50"), p99: med(t.name, "p99"), max: med(t.name, "max") }]));
  const f = (name: string) => ttft[name]!;
  const addedTtft = (name: string, k: "p50" | "p99") => round(f(name)[k] - f("direct")[k], 3);
  rows.push(
    row("TTFT p50 (ms)", f("direct").p50, f("nginx").p50, f("ours").p50),
    row("TTFT p99 (ms)", f("direct").p99, f("nginx").p99, f("ours").p99),
    row("added TTFT p50 (ms)", undefined, addedTtft("nginx", "p50"), addedTtft("ours", "p50")),
    row("added TTFT p99 (ms)", undefined, addedTtft("nginx", "p99"), addedTtft("ours", "p99"), { target: "<= 1", pass: addedTtft("ours", "p99") <= 1 }),
  );

  await ctx.mock.configure({ chunks: ctx.mode.streamChunks, delayMs: ctx.mode.streamDelayMs });
  const runs: Record<string, Record<number, StreamRun>> = { direct: {}, nginx: {}, ours: {} };
  for (const c of ctx.mode.concurrencies) {
    for (const t of targets) {
      ctx.progress(`${c} concurrent streams of ${ctx.mode.streamChunks} chunks, ${ctx.mode.streamDelayMs} ms apart: ${t.name}`);
      runs[t.name]![c] = await concurrent(ctx, t, c);
    }
    const r = (name: string) => runs[name]![c]!;
    const lostOrErr = (x: StreamRun) => x.lost_frames + x.errors;
    const big = c === Math.max(...ctx.mode.concurrencies);
    const v = (pick: (x: StreamRun) => number) => [pick(r("direct")), pick(r("nginx")), pick(r("ours"))] as const;
    rows.push(
      row(`${c} streams: frames lost + errors`, ...v(lostOrErr), { ratio: "", ...(big ? { target: "0", pass: lostOrErr(r("ours")) === 0 } : {}) }),
      row(`${c} streams: first event p99 (ms)`, ...v((x) => x.ttfe_ms.p99)),
      row(
        `${c} streams: longest stream (ms)`,
        ...v((x) => x.stream_ms.max),
        big ? { note: `the upstream alone takes ${ctx.mode.streamChunks * ctx.mode.streamDelayMs} ms per stream` } : {},
      ),
    );
    if (big) {
      rows.push(
        row(`${c} streams: upstream in flight at once`, ...v((x) => x.upstream_in_flight_max), { ratio: "" }),
        row(`${c} streams: peak RSS (MB)`, undefined, r("nginx").peak_rss_mb!, r("ours").peak_rss_mb!),
        row(`${c} streams: CPU per relayed event (us)`, undefined, r("nginx").cpu_us_per_frame!, r("ours").cpu_us_per_frame!),
        row(`${c} streams: upstream connections opened`, undefined, r("nginx").upstream_connections, r("ours").upstream_connections),
        row(`${c} streams: TIME_WAIT on upstream port`, undefined, r("nginx").time_wait_added, r("ours").time_wait_added),
      );
    }
  }

  // The same 1000 streams through a copy of the binary that raises Bun's fetch cap.
  const big = Math.max(...ctx.mode.concurrencies);
  ctx.progress(`${big} concurrent streams: ours with BUN_CONFIG_MAX_HTTP_REQUESTS=4096`);
  const port = await freePort();
  const child = await startOurs("ours-maxhttp", [ctx.binary], {
    mockPort: ctx.mock.port,
    port,
    core: PROXY_CORE,
    dir: ctx.dir,
    env: { BUN_CONFIG_MAX_HTTP_REQUESTS: "4096" },
  });
  let raised: StreamRun;
  try {
    raised = await concurrent(ctx, proxiedTarget("ours-maxhttp", port, child.pid, true), big);
  } finally {
    await child.stop();
  }
  const plain = runs.ours![big]!;
  const cap: Section = {
    title: `Bun's fetch cap: ${big} streams through ours, BUN_CONFIG_MAX_HTTP_REQUESTS unset (as shipped) vs 4096`,
    columns: [
      ["unset", "unset"],
      ["raised", "4096"],
    ],
    rows: [
      { metric: "upstream streams in flight at once", values: { unset: plain.upstream_in_flight_max, raised: raised.upstream_in_flight_max } },
      { metric: "first event p50 (ms)", values: { unset: plain.ttfe_ms.p50, raised: raised.ttfe_ms.p50 } },
      { metric: "first event p99 (ms)", values: { unset: plain.ttfe_ms.p99, raised: raised.ttfe_ms.p99 } },
      { metric: "longest stream (ms)", values: { unset: plain.stream_ms.max, raised: raised.stream_ms.max } },
      { metric: "frames lost + errors", values: { unset: plain.lost_frames + plain.errors, raised: raised.lost_frames + raised.errors } },
      { metric: "peak RSS (MB)", values: { unset: plain.peak_rss_mb!, raised: raised.peak_rss_mb! } },
      { metric: "CPU per relayed event (us)", values: { unset: plain.cpu_us_per_frame!, raised: raised.cpu_us_per_frame! } },
    ],
  };
  return { data: { ttft, ttft_slices: slices, concurrent: runs, max_http_4096: raised }, rows, cap };
}
