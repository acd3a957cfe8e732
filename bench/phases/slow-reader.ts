/**
 * A client that reads 1 byte per second from an endless stream (slow-reader.mjs, under Node so
 * the TCP window really closes). The proxy relays pull-driven, so it should stop reading from
 * the upstream once the socket buffers are full: the upstream's byte count should stop near
 * the direct run's (kernel buffers only) and the proxy's RSS should stay flat.
 */
import { resolve } from "node:path";
import { LOAD_CORE, type Ctx } from "../context.ts";
import { rssMb, rssSampler, runToEnd } from "../lib/procs.ts";
import { round } from "../lib/stats.ts";
import { row, type Row } from "../report.ts";
import type { Target } from "../targets.ts";

const READER = resolve(import.meta.dir, "../slow-reader.mjs");
const MB = 1024 * 1024;

async function slowRead(ctx: Ctx, target: Target) {
  const seconds = ctx.mode.slowReaderSec;
  await ctx.mock.reset();
  const before = target.pid ? rssMb(target.pid) : NaN;
  const sampler = target.pid ? rssSampler(target.pid, 100) : null;
  let [produced, producedHalfway, rssHalfway, rssLate] = [NaN, NaN, NaN, NaN];
  const rss = () => (target.pid ? rssMb(target.pid) : NaN);
  const half = setTimeout(
    async () => {
      rssHalfway = rss();
      producedHalfway = (await ctx.mock.stats()).streamBytes;
    },
    (seconds * 1000) / 2,
  );
  const late = setTimeout(
    async () => {
      rssLate = rss();
      produced = (await ctx.mock.stats()).streamBytes;
    },
    seconds * 1000 - 500,
  );
  const out = await runToEnd(
    ["node", READER, String(target.port), target.chatPath, target.keyHeader[0], target.keyHeader[1], target.body(true), String(seconds)],
    {
      core: LOAD_CORE,
      timeoutMs: (seconds + 15) * 1000,
    },
  );
  clearTimeout(half);
  clearTimeout(late);
  const peak = sampler?.stop() ?? NaN;
  await Bun.sleep(1000);
  const stats = await ctx.mock.stats();
  return {
    client: JSON.parse(out.trim()) as { bytes_read: number; starts_with: string },
    upstream_mb_halfway: round(producedHalfway / MB, 1),
    upstream_mb_at_end: round(produced / MB, 1),
    rss_before_mb: round(before, 1),
    rss_peak_mb: round(peak, 1),
    rss_growth_mb: round(peak - before, 1),
    rss_growth_second_half_mb: round(rssLate - rssHalfway, 1),
    upstream_cancelled_after_hangup: stats.streamsCancelled,
  };
}

export async function slowReaderPhase(ctx: Ctx) {
  await ctx.mock.configure({ chunks: 100_000_000, delayMs: 0 });
  const result: Record<string, Awaited<ReturnType<typeof slowRead>>> = {};
  for (const t of [ctx.direct, ctx.nginx, ctx.ours]) {
    ctx.progress(`slow reader, 1 byte/s for ${ctx.mode.slowReaderSec} s: ${t.name}`);
    result[t.name] = await slowRead(ctx, t);
  }
  const [d, n, o] = [result.direct!, result.nginx!, result.ours!];
  const s = ctx.mode.slowReaderSec;
  const rows: Row[] = [
    row(`slow reader: upstream MB sent by ${s / 2} s`, d.upstream_mb_halfway, n.upstream_mb_halfway, o.upstream_mb_halfway),
    row(`slow reader: upstream MB sent by ${s} s`, d.upstream_mb_at_end, n.upstream_mb_at_end, o.upstream_mb_at_end, {
      note: "flat from half-way to the end = backpressure reaches the upstream; direct = what kernel socket buffers alone hold",
    }),
    row("slow reader: proxy RSS growth, whole run (MB)", undefined, n.rss_growth_mb, o.rss_growth_mb, { ratio: "" }),
    row("slow reader: proxy RSS growth, second half (MB)", undefined, n.rss_growth_second_half_mb, o.rss_growth_second_half_mb, {
      ratio: "",
      target: "bounded",
      // bounded = once the buffers are full, neither the upstream's bytes nor our RSS still grow
      pass: o.rss_growth_second_half_mb < 2 && o.upstream_mb_at_end - o.upstream_mb_halfway < 1,
    }),
    row("slow reader: upstream cancelled on hang-up", d.upstream_cancelled_after_hangup, n.upstream_cancelled_after_hangup, o.upstream_cancelled_after_hangup, {
      ratio: "",
    }),
  ];
  return { data: result, rows };
}
