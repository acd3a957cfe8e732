/**
 * Non-streaming chat calls with wrk: added latency at one connection (every request timed), then
 * throughput at 50 connections with the proxy's CPU per request, peak RSS, and how many
 * connections it opened to the upstream (distinct client ports the mock saw, and TIME_WAIT
 * sockets on the upstream port afterwards: churn shows up as both).
 */
import { LOAD_CORE, timeWaitSince, type Ctx } from "../context.ts";
import { cpuMs, rssSampler } from "../lib/procs.ts";
import { percentile, round } from "../lib/stats.ts";
import { row, type Row } from "../report.ts";
import { type Figures, goalOf, type SpeedFigures } from "../speed-table.ts";
import type { Target } from "../targets.ts";
import { wrk, type WrkResult } from "../wrk.ts";

export interface ThroughputResult extends WrkResult {
  cpu_us_per_request: number;
  peak_rss_mb: number | null;
  upstream_connections: number;
  upstream_requests: number;
  time_wait_added: number;
}

const ms = (us: number) => us / 1000;

/** Per-figure median over slices; counts are summed. A slice in which not one request was
 *  answered (a stall longer than the slice) has no figures: its zeros would read as "instant". */
function medianOfSlices(slices: WrkResult[]): WrkResult & { empty_slices: number } {
  const answered = slices.filter((x) => x.requests > 0);
  const med = (k: keyof WrkResult) =>
    percentile(
      answered.map((x) => x[k]),
      50,
    );
  const sum = (k: keyof WrkResult) => slices.reduce((a, x) => a + x[k], 0);
  return {
    requests: sum("requests"),
    rps: med("rps"),
    errors: sum("errors"),
    non2xx: sum("non2xx"),
    p50_us: med("p50_us"),
    p90_us: med("p90_us"),
    p99_us: med("p99_us"),
    p999_us: med("p999_us"),
    max_us: med("max_us"),
    mean_us: med("mean_us"),
    empty_slices: slices.length - answered.length,
  };
}

export async function throughput(ctx: Ctx, target: Target): Promise<ThroughputResult> {
  const c = ctx.mode.throughputConnections;
  await wrk(target, { connections: c, seconds: ctx.mode.warmSec, core: LOAD_CORE });
  await ctx.mock.reset();
  const pid = target.pid ?? ctx.mock.child.pid;
  const timeWaits = timeWaitSince(ctx.mock.port);
  const cpu0 = cpuMs(pid);
  const sampler = target.pid ? rssSampler(target.pid) : null;
  const r = await wrk(target, { connections: c, seconds: ctx.mode.throughputSec, core: LOAD_CORE });
  const peak = sampler?.stop() ?? null;
  const cpu = cpuMs(pid) - cpu0;
  const stats = await ctx.mock.stats();
  return {
    ...r,
    cpu_us_per_request: round((cpu * 1000) / r.requests, 1),
    peak_rss_mb: peak === null ? null : round(peak, 1),
    upstream_connections: stats.connections,
    upstream_requests: stats.requests,
    time_wait_added: timeWaits(),
  };
}

export async function requestPhase(ctx: Ctx, quiet: Target | null) {
  const targets = [ctx.direct, ctx.nginx, ctx.floor, ctx.ours];
  const slices: Record<string, WrkResult[]> = {};
  for (const t of targets) await wrk(t, { connections: 1, seconds: ctx.mode.warmSec, core: LOAD_CORE });
  for (let round = 1; round <= ctx.mode.rounds; round++) {
    for (const t of targets) {
      ctx.progress(`latency, 1 connection, slice ${round}/${ctx.mode.rounds}: ${t.name}`);
      const slice = slices[t.name] ?? [];
      slices[t.name] = slice;
      slice.push(await wrk(t, { connections: 1, seconds: Math.max(1, Math.round(ctx.mode.latencySec / ctx.mode.rounds)), core: LOAD_CORE }));
    }
  }
  const latency = Object.fromEntries(Object.entries(slices).map(([name, s]) => [name, medianOfSlices(s)]));
  const tput: Record<string, ThroughputResult> = {};
  for (const t of quiet ? [...targets, quiet] : targets) {
    ctx.progress(`throughput, ${ctx.mode.throughputConnections} connections: ${t.name}`);
    tput[t.name] = await throughput(ctx, t);
  }

  const d = latency.direct!,
    n = latency.nginx!,
    o = latency.ours!,
    fl = latency["bun-floor"]!;
  const added = (x: WrkResult, key: "p50_us" | "p99_us") => round(ms(x[key] - d[key]), 3);
  const c = ctx.mode.throughputConnections;
  const [td, tn, to, tf] = [tput.direct!, tput.nginx!, tput.ours!, tput["bun-floor"]!];
  const throughputFig: Figures = { nginx: round(tn.rps, 0), floor: round(tf.rps, 0), ours: round(to.rps, 0) };
  const cpu: Figures = {
    nginx: tn.cpu_us_per_request,
    floor: tf.cpu_us_per_request,
    ours: to.cpu_us_per_request,
    note: `utime+stime of the process under test / requests, the c${c} run`,
  };
  const p50: Figures = { nginx: added(n, "p50_us"), floor: added(fl, "p50_us"), ours: added(o, "p50_us"), note: "wrk, every request timed, minus direct's" };
  const empty = Object.entries(latency)
    .filter(([, x]) => x.empty_slices > 0)
    .map(([name, x]) => `${name} ${x.empty_slices}`);
  const emptyNote = empty.length ? `; slices with no request answered, left out: ${empty.join(", ")}` : "";
  const p99: Figures = {
    nginx: added(n, "p99_us"),
    floor: added(fl, "p99_us"),
    ours: added(o, "p99_us"),
    note: `median of ${ctx.mode.rounds} slices per target${emptyNote}`,
  };
  const speed: SpeedFigures = { throughput: throughputFig, cpuPerRequest: cpu, addedP50: p50, addedP99: p99 };
  const rows: Row[] = [
    row("latency c1 p50 (ms)", ms(d.p50_us), ms(n.p50_us), ms(o.p50_us), { floor: ms(fl.p50_us) }),
    row("latency c1 p99 (ms)", ms(d.p99_us), ms(n.p99_us), ms(o.p99_us), { floor: ms(fl.p99_us), ...(emptyNote ? { note: emptyNote.slice(2) } : {}) }),
    row("added latency c1 p50 (ms)", undefined, p50.nginx, p50.ours, { floor: p50.floor, ...goalOf("addedP50", p50) }),
    row("added latency c1 p99 (ms)", undefined, p99.nginx, p99.ours, { floor: p99.floor, ...goalOf("addedP99", p99) }),
    row(`throughput c${c} (req/s)`, round(td.rps, 0), round(tn.rps, 0), round(to.rps, 0), {
      floor: round(tf.rps, 0),
      ...goalOf("throughput", throughputFig),
    }),
    row(`latency c${c} p99 (ms)`, ms(td.p99_us), ms(tn.p99_us), ms(to.p99_us), { floor: ms(tf.p99_us) }),
    row(`CPU per request c${c} (us)`, td.cpu_us_per_request, tn.cpu_us_per_request, to.cpu_us_per_request, {
      floor: tf.cpu_us_per_request,
      ...goalOf("cpuPerRequest", cpu),
      note: "utime+stime of the process under test / requests (direct: the mock itself, sharing its core with wrk)",
    }),
    row(`peak RSS under c${c} (MB)`, undefined, tn.peak_rss_mb!, to.peak_rss_mb!, { floor: tf.peak_rss_mb! }),
    row(`upstream connections opened, c${c} run`, undefined, tn.upstream_connections, to.upstream_connections, {
      floor: tf.upstream_connections,
      note: `distinct client ports the mock saw over ${to.upstream_requests} requests (ours)`,
    }),
    row(`TIME_WAIT on upstream port after c${c} run`, undefined, tn.time_wait_added, to.time_wait_added, { floor: tf.time_wait_added }),
    row(
      "errors + non-2xx, all wrk runs",
      d.errors + d.non2xx + td.errors + td.non2xx,
      n.errors + n.non2xx + tn.errors + tn.non2xx,
      o.errors + o.non2xx + to.errors + to.non2xx,
      { floor: fl.errors + fl.non2xx + tf.errors + tf.non2xx, ratio: "" },
    ),
  ];
  if (quiet) {
    const q = tput[quiet.name]!;
    rows.push(
      row(`throughput c${c}, ours at LOG_LEVEL=warn (req/s)`, undefined, round(tn.rps, 0), round(q.rps, 0), {
        note: `${q.cpu_us_per_request} us CPU per request: the difference to the row above is what the per-request info log line costs`,
      }),
    );
  }
  return { data: { latency, latency_slices: slices, throughput: tput }, rows, speed };
}
