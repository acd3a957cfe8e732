/**
 * Cold start to first answer and idle RSS after it (bench/startup.ts), for our binary and for
 * the bun floor compiled the same way; and nginx's RSS after its first answer, measured on the
 * running nginx (it has no single binary to cold-start like ours) after the same 2 s of rest.
 */
import { PROXY_CORE, type Ctx, type Mode } from "../context.ts";
import { rssMb } from "../lib/procs.ts";
import { round } from "../lib/stats.ts";
import { row } from "../report.ts";
import { goalOf, type Figures } from "../speed-table.ts";
import { measureStartup, type StartupResult } from "../startup.ts";
import { CLIENT_KEY, floorEnv, oursEnv, type Target } from "../targets.ts";

export async function startupPhase(o: { mode: Mode; binary: string; floorBinary: string; mockPort: number; progress: Ctx["progress"] }) {
  o.progress(`cold start, ${o.mode.startupRuns} runs: ours, then the bun floor`);
  const { HOST: _h, PORT: _p, ...serveEnv } = oursEnv(o.mockPort, 0);
  const common = { clientKey: CLIENT_KEY, runs: o.mode.startupRuns, core: PROXY_CORE };
  const ours = await measureStartup({ binary: o.binary, env: serveEnv, ...common });
  const floor = await measureStartup({ binary: o.floorBinary, env: floorEnv(o.mockPort), ...common });
  return { ours, floor };
}

/** The main table's rows and issue 12's idle-RSS figures, once nginx's is known. */
export function startupRows(s: { ours: StartupResult; floor: StartupResult }, nginxIdleMb: number) {
  const idle: Figures = {
    nginx: nginxIdleMb,
    floor: s.floor.idle_rss_mb,
    ours: s.ours.idle_rss_mb,
    note: `ours, floor: cold start pinned to core 1, one answer, 2 s rest, the binary as just built (its pages read back from disk: ours ${s.ours.idle_rss_read_back_mb}, floor ${s.floor.idle_rss_read_back_mb} MB; that process after 14 s of rest, ours past its start-up memory release: ${s.ours.idle_rss_quiet_mb}, floor ${s.floor.idle_rss_quiet_mb} MB); nginx: the running master + worker, one answer, 2 s rest`,
  };
  const rows = [
    row("cold start to first answer, median (ms)", undefined, undefined, s.ours.cold_start_ms.median, {
      floor: s.floor.cold_start_ms.median,
      target: "<= 100",
      pass: s.ours.cold_start_ms.median <= 100,
    }),
    row("idle RSS after first answer (MB)", undefined, nginxIdleMb, s.ours.idle_rss_mb, { floor: s.floor.idle_rss_mb, ...goalOf("idleRss", idle) }),
    row("  the same, the binary's pages read back (MB)", undefined, undefined, s.ours.idle_rss_read_back_mb, { floor: s.floor.idle_rss_read_back_mb }),
    row("  that process after 14 s of rest (MB)", undefined, undefined, s.ours.idle_rss_quiet_mb, { floor: s.floor.idle_rss_quiet_mb }),
  ];
  return { rows, idle };
}

/** RSS of a running target (nginx: master + worker) after one chat answer and 2 s of rest. */
export async function rssAfterFirstAnswer(target: Target): Promise<number> {
  const response = await fetch(target.chatUrl, {
    method: "POST",
    headers: { "content-type": "application/json", [target.keyHeader[0]]: target.keyHeader[1] },
    body: target.body(false),
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${target.name}: first answer was ${response.status}`);
  await Bun.sleep(2000);
  return round(rssMb(target.pid!), 1);
}
