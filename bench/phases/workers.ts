/**
 * Both cores: `--workers 2` against nginx with `worker_processes 2`, and `--workers 1` for the
 * scaling, at the throughput phase's 50 connections. Nothing is pinned here except the mock
 * upstream (core 0, as everywhere), so wrk, the mock and the proxy share the two cores alike for
 * every target; the ratio to nginx is the figure, the absolute ones are lower than pinned runs.
 */
import { join } from "node:path";
import type { Ctx } from "../context.ts";
import { freePort, rssMb } from "../lib/procs.ts";
import { round } from "../lib/stats.ts";
import { startNginx } from "../nginx.ts";
import type { Section } from "../report.ts";
import { CLIENT_KEY, proxiedTarget, startOurs, UPSTREAM_KEY, DEPLOYMENT, API_VERSION, type Target } from "../targets.ts";
import { wrk, type WrkResult } from "../wrk.ts";

export async function workersPhase(ctx: Ctx): Promise<{ section: Section; data: Record<string, unknown> }> {
  const nginxPort = await freePort();
  const nginx = await startNginx({
    dir: join(ctx.dir, "nginx-2"),
    port: nginxPort,
    upstreamPort: ctx.mock.port,
    upstreamKey: UPSTREAM_KEY,
    clientKey: CLIENT_KEY,
    deployment: DEPLOYMENT,
    apiVersion: API_VERSION,
    core: null,
    workers: 2,
  });
  const targets: Array<{ target: Target; stop: () => Promise<unknown>; pid: number }> = [
    { target: proxiedTarget("nginx-2", nginxPort, nginx.pid, false), stop: () => nginx.stop(), pid: nginx.pid },
  ];
  for (const workers of [2, 1]) {
    const port = await freePort();
    const child = await startOurs(`ours-${workers}`, [ctx.binary], {
      mockPort: ctx.mock.port,
      port,
      core: null,
      dir: ctx.dir,
      env: { AZURE_PROXY_WORKERS: String(workers) },
    });
    targets.push({ target: proxiedTarget(`ours-${workers}`, port, child.pid, true), stop: () => child.stop(), pid: child.pid });
  }
  const c = ctx.mode.throughputConnections;
  const results: Record<string, WrkResult & { rss_mb: number }> = {};
  try {
    for (const { target, pid } of targets) {
      ctx.progress(`both cores, throughput, ${c} connections: ${target.name}`);
      await wrk(target, { connections: c, seconds: ctx.mode.warmSec, core: null });
      const r = await wrk(target, { connections: c, seconds: ctx.mode.throughputSec, core: null });
      results[target.name] = { ...r, rss_mb: round(rssMb(pid), 1) };
    }
  } finally {
    for (const { stop } of targets) await stop();
  }
  const [n, o2, o1] = [results["nginx-2"]!, results["ours-2"]!, results["ours-1"]!];
  const section: Section = {
    title: `both cores, not pinned (wrk and the mock share them): throughput at ${c} connections`,
    columns: [
      ["nginx", "nginx, 2 workers"],
      ["ours2", "ours, --workers 2"],
      ["ours1", "ours, --workers 1"],
    ],
    ratio: ["ours2", "nginx"],
    rows: [
      {
        metric: `throughput c${c} (req/s)`,
        values: { nginx: round(n.rps, 0), ours2: round(o2.rps, 0), ours1: round(o1.rps, 0) },
        target: ">= 0.8x nginx",
        pass: o2.rps >= 0.8 * n.rps,
      },
      { metric: `latency c${c} p99 (ms)`, values: { nginx: n.p99_us / 1000, ours2: o2.p99_us / 1000, ours1: o1.p99_us / 1000 } },
      { metric: "errors + non-2xx", values: { nginx: n.errors + n.non2xx, ours2: o2.errors + o2.non2xx, ours1: o1.errors + o1.non2xx }, ratio: "" },
      { metric: "RSS after, all processes (MB)", values: { nginx: n.rss_mb, ours2: o2.rss_mb, ours1: o1.rss_mb } },
    ],
  };
  return { section, data: results };
}
