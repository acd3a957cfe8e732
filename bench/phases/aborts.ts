/**
 * Leak check: 10,000 streams that the client aborts part-way (after `ABORT_AFTER` of 64
 * events, 5 ms apart), 100 at a time; the proxy's RSS before and after (after a warm-up round,
 * so first-use allocations are not counted, and a rest so garbage can be collected). The
 * mock's cancel count shows whether each abort reached the upstream (oven-sh/bun#25919).
 * Full mode runs a second round: growth that repeats is a leak, growth that does not is heap
 * high water.
 */
import { sseClient, type Ctx, type SseReport } from "../context.ts";
import type { MockStats } from "../mock-control.ts";
import { rssMb } from "../lib/procs.ts";
import { round } from "../lib/stats.ts";
import { row, type Row } from "../report.ts";
import type { Target } from "../targets.ts";

const ABORT_AFTER = 8;
const CONCURRENCY = 100;

async function settle(ctx: Ctx): Promise<MockStats> {
  // the upstream's streams end when the proxy lets go of them; wait for that (bounded), then rest
  const deadline = performance.now() + 10_000;
  let stats = await ctx.mock.stats();
  while (stats.activeStreams > 0 && performance.now() < deadline) {
    await Bun.sleep(100);
    stats = await ctx.mock.stats();
  }
  await Bun.sleep(2000);
  return stats;
}

export interface AbortRound {
  client: SseReport;
  rss_after_mb: number;
  upstream: MockStats;
}

export async function abortRounds(ctx: Ctx, target: Target, rounds: number) {
  await ctx.mock.configure({ chunks: 64, delayMs: 5 });
  const job = { mode: "abort" as const, concurrency: CONCURRENCY, abortAfter: ABORT_AFTER, deadlineMs: 180_000 };
  ctx.progress(`aborted streams, warm-up (1000): ${target.name}`);
  await sseClient(ctx, target, { ...job, n: 1000 });
  await settle(ctx);
  const before = rssMb(target.pid!);
  const out: AbortRound[] = [];
  for (let i = 0; i < rounds; i++) {
    ctx.progress(`${ctx.mode.aborts} streams aborted by the client, round ${i + 1}/${rounds}: ${target.name}`);
    await ctx.mock.reset();
    const client = await sseClient(ctx, target, { ...job, n: ctx.mode.aborts });
    const upstream = await settle(ctx);
    out.push({ client, upstream, rss_after_mb: round(rssMb(target.pid!), 1) });
  }
  return { rss_before_mb: round(before, 1), rounds: out };
}

export async function abortPhase(ctx: Ctx) {
  const ours = await abortRounds(ctx, ctx.ours, ctx.mode.abortRounds);
  const nginx = ctx.mode.abortsNginx ? await abortRounds(ctx, ctx.nginx, 1) : null;
  const n = ctx.mode.aborts;
  const growth = (x: typeof ours, i: number) => round(x.rounds[i]!.rss_after_mb - (i === 0 ? x.rss_before_mb : x.rounds[i - 1]!.rss_after_mb), 1);
  const rows: Row[] = [
    row(`RSS before ${n} aborted streams (MB)`, undefined, nginx?.rss_before_mb, ours.rss_before_mb),
    row(`RSS after ${n} aborted streams (MB)`, undefined, nginx ? nginx.rounds[0]!.rss_after_mb : undefined, ours.rounds[0]!.rss_after_mb),
    row(`RSS growth over ${n} aborted streams (MB)`, undefined, nginx ? growth(nginx, 0) : undefined, growth(ours, 0), {
      ratio: "",
      target: "<= 10",
      pass: growth(ours, 0) <= 10,
    }),
  ];
  if (ours.rounds.length > 1)
    rows.push(row(`RSS growth over a second ${n} (MB)`, undefined, undefined, growth(ours, 1), { target: "<= 10", pass: growth(ours, 1) <= 10 }));
  const [o, g] = [ours.rounds[0]!, nginx?.rounds[0]];
  rows.push(
    row(`aborts that reached the upstream (of ${n})`, undefined, g?.upstream.streamsCancelled, o.upstream.streamsCancelled, {
      ratio: "",
      note: `upstream streams that completed anyway: ours ${o.upstream.streamsCompleted}${g ? `, nginx ${g.upstream.streamsCompleted}` : ""}; still open 10 s later: ours ${o.upstream.activeStreams}${g ? `, nginx ${g.upstream.activeStreams}` : ""}`,
    }),
    row("aborted-stream client errors", undefined, g?.client.errors, o.client.errors, { ratio: "" }),
  );
  return { data: { ours, nginx }, rows };
}
