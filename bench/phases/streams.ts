/**
 * Streaming, through nginx, the bun floor and ours beside the upstream directly: time to the
 * first SSE data event (streams in sequence, then `ttftBurst` opened together, repeated), then
 * 1, 100 and 1000 streams at once, each `streamChunks` Azure chunks `streamDelayMs` apart, with every data event
 * counted (zero lost is the goal). The 1000-stream run is repeated on a second copy of the binary
 * started with BUN_CONFIG_MAX_HTTP_REQUESTS=4096: Bun's fetch runs at most 256 requests at once
 * (read at process start), so without it streams 257+ should wait for a slot; the mock's
 * "in flight at once" and the first-event times show whether they do.
 */
import { PROXY_CORE, sseClient, timeWaitSince, type Ctx, type SseReport } from "../context.ts";
import { cpuMs, freePort, rssSampler } from "../lib/procs.ts";
import { percentile, round } from "../lib/stats.ts";
import { row, type Row, type Section } from "../report.ts";
import { goalOf, type Figures, type SpeedFigures } from "../speed-table.ts";
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

/** `n` streams opened together, `rounds` times per target round-robin: each stream's first-event
 *  time, p99 per burst, median over the bursts (one disturbed burst does not make the figure). */
async function bursts(ctx: Ctx, targets: Target[]) {
  const { ttftBurst: n, ttftBurstRounds: rounds } = ctx.mode;
  // Short streams end the run soon, but they last (about 300 ms) well past the burst's last first
  // event, so no stream's end-of-stream work lands among the first events being timed.
  const chunks = 16;
  await ctx.mock.configure({ chunks, delayMs: ctx.mode.streamDelayMs });
  const p99s: Record<string, number[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  const lost: Record<string, number> = Object.fromEntries(targets.map((t) => [t.name, 0]));
  for (let round = 1; round <= rounds; round++) {
    for (const t of targets) {
      ctx.progress(`time to first token, ${n} streams at once, burst ${round}/${rounds}: ${t.name}`);
      const r = await sseClient(ctx, t, { mode: "streams", concurrency: n, deadlineMs: 30_000, label: `sse burst x${n} ${t.name}` });
      p99s[t.name]!.push(r.ttfe_ms.p99);
      lost[t.name]! += n * t.expectedFrames(chunks + 1) - r.frames_total + r.errors;
    }
  }
  const p99 = Object.fromEntries(targets.map((t) => [t.name, percentile(p99s[t.name]!, 50)]));
  return { streams: n, rounds, p99, p99_per_burst: p99s, lost_frames_and_errors: lost };
}

export async function streamPhase(ctx: Ctx) {
  const targets = [ctx.direct, ctx.nginx, ctx.floor, ctx.ours];
  const rows: Row[] = [];
  const FLOOR = ctx.floor.name;

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
  const ttft1: Figures = {
    nginx: addedTtft("nginx", "p99"),
    floor: addedTtft(FLOOR, "p99"),
    ours: addedTtft("ours", "p99"),
    note: `${ctx.mode.ttftStreams} streams one after another, minus direct's; ours drops Azure's prompt-filter chunk, nginx and the floor pass it (same write)`,
  };
  rows.push(
    row("TTFT p50 (ms)", f("direct").p50, f("nginx").p50, f("ours").p50, { floor: f(FLOOR).p50 }),
    row("TTFT p99 (ms)", f("direct").p99, f("nginx").p99, f("ours").p99, { floor: f(FLOOR).p99 }),
    row("added TTFT p50 (ms)", undefined, addedTtft("nginx", "p50"), addedTtft("ours", "p50"), { floor: addedTtft(FLOOR, "p50") }),
    row("added TTFT p99 (ms)", undefined, ttft1.nginx, ttft1.ours, { floor: ttft1.floor, ...goalOf("ttft1", ttft1) }),
  );

  const burst = await bursts(ctx, targets);
  const addedBurst = (name: string) => round(burst.p99[name]! - burst.p99.direct!, 3);
  const lostInBursts = Object.entries(burst.lost_frames_and_errors).filter(([, n]) => n !== 0);
  const ttftBurst: Figures = {
    nginx: addedBurst("nginx"),
    floor: addedBurst(FLOOR),
    ours: addedBurst("ours"),
    note:
      `each stream's first event, p99 per burst, median of ${burst.rounds} bursts, minus direct's` +
      (lostInBursts.length ? `; frames lost + errors: ${lostInBursts.map(([k, n]) => `${k} ${n}`).join(", ")}` : ""),
  };
  const b = (name: string) => burst.p99[name]!;
  rows.push(
    row(`TTFT p99, ${burst.streams} streams at once (ms)`, b("direct"), b("nginx"), b("ours"), { floor: b(FLOOR) }),
    row(`added TTFT p99, ${burst.streams} streams at once (ms)`, undefined, ttftBurst.nginx, ttftBurst.ours, {
      floor: ttftBurst.floor,
      ...goalOf("ttftBurst", ttftBurst),
    }),
  );

  await ctx.mock.configure({ chunks: ctx.mode.streamChunks, delayMs: ctx.mode.streamDelayMs });
  const runs: Record<string, Record<number, StreamRun>> = Object.fromEntries(targets.map((t) => [t.name, {}]));
  const speed: SpeedFigures = { ttft1, ttftBurst };
  for (const c of ctx.mode.concurrencies) {
    for (const t of targets) {
      ctx.progress(`${c} concurrent streams of ${ctx.mode.streamChunks} chunks, ${ctx.mode.streamDelayMs} ms apart: ${t.name}`);
      runs[t.name]![c] = await concurrent(ctx, t, c);
    }
    const r = (name: string) => runs[name]![c]!;
    const lostOrErr = (x: StreamRun) => x.lost_frames + x.errors;
    const big = c === Math.max(...ctx.mode.concurrencies);
    /** a row over all four targets; `proxies` leaves direct blank (a figure of the process under test) */
    const fig = (metric: string, pick: (x: StreamRun) => number, extra: Omit<Row, "metric" | "values"> & { proxies?: boolean } = {}) => {
      const { proxies, ...rest } = extra;
      return row(metric, proxies ? undefined : pick(r("direct")), pick(r("nginx")), pick(r("ours")), { floor: pick(r(FLOOR)), ...rest });
    };
    rows.push(
      fig(`${c} streams: frames lost + errors`, lostOrErr, { ratio: "", ...(big ? { target: "0", pass: lostOrErr(r("ours")) === 0 } : {}) }),
      fig(`${c} streams: first event p99 (ms)`, (x) => x.ttfe_ms.p99),
      fig(
        `${c} streams: longest stream (ms)`,
        (x) => x.stream_ms.max,
        big ? { note: `the upstream alone takes ${ctx.mode.streamChunks * ctx.mode.streamDelayMs} ms per stream` } : {},
      ),
    );
    if (big) {
      const pick = (k: "peak_rss_mb" | "cpu_us_per_frame"): Figures => ({ nginx: r("nginx")[k]!, floor: r(FLOOR)[k]!, ours: r("ours")[k]! });
      speed.peakRss = { ...pick("peak_rss_mb"), note: "sampled while the streams ran; nginx = master + worker" };
      speed.cpuPerEvent = {
        ...pick("cpu_us_per_frame"),
        note: "utime+stime / data events relayed; nginx and the floor relay one more per stream (the prompt-filter chunk)",
      };
      rows.push(
        fig(`${c} streams: upstream in flight at once`, (x) => x.upstream_in_flight_max, { ratio: "" }),
        fig(`${c} streams: peak RSS (MB)`, (x) => x.peak_rss_mb!, { proxies: true, ...goalOf("peakRss", speed.peakRss) }),
        fig(`${c} streams: CPU per relayed event (us)`, (x) => x.cpu_us_per_frame!, { proxies: true, ...goalOf("cpuPerEvent", speed.cpuPerEvent) }),
        fig(`${c} streams: upstream connections opened`, (x) => x.upstream_connections, { proxies: true }),
        fig(`${c} streams: TIME_WAIT on upstream port`, (x) => x.time_wait_added, { proxies: true }),
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
  return { data: { ttft, ttft_slices: slices, ttft_burst: burst, concurrent: runs, max_http_4096: raised }, rows, cap, speed };
}
