/**
 * Cold start = spawn → first answered request (a real chat call through to the upstream),
 * median of N runs; idle RSS = VmRSS after that request and 2 s of rest, measured twice: on the
 * binary as it was just written (the build, a copy, an image pull: the kernel holds its pages
 * in large folios and maps each whole on first touch) and once more after its cached pages were
 * dropped and read back in small ones (a host that has run it a while; README.md, Performance);
 * that last process is read once more after 14 s of rest, past the 10 s of quiet after which
 * ours hands back its start-up memory (src/app/release-startup-memory.ts).
 * Part of `npm run bench`; also by hand: `bun bench/startup.ts [path/to/azure-proxy]`
 * (default dist/azure-proxy, against the simulator). The spawn goes through taskset + setpriv
 * (two extra execs, ~1 ms) so it is pinned like the rest of the benchmark.
 * Loopback only; every process it starts is stopped before it returns.
 */
import { resolve } from "node:path";
import { freePort, rssMb, start, stopAll } from "./lib/procs.ts";
import { round } from "./lib/stats.ts";

export interface StartupOptions {
  binary: string;
  /** environment for `serve` without HOST/PORT (set here) */
  env: Record<string, string>;
  clientKey: string;
  runs: number;
  core: number | null;
}

export interface StartupResult {
  size_mb: number;
  cold_start_ms: { median: number; min: number; max: number; runs: number };
  idle_rss_mb: number;
  /** the same after the binary's cached pages were dropped (posix_fadvise DONTNEED) and read back */
  idle_rss_read_back_mb: number;
  /** that process again, after 14 s of rest in all */
  idle_rss_quiet_mb: number;
}

const QUIET_REST_MS = 14_000;
const body = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] });

async function firstAnswer(o: StartupOptions, port: number) {
  const started = performance.now();
  const child = start("cold-start", [o.binary, "serve"], { core: o.core, env: { ...o.env, HOST: "127.0.0.1", PORT: String(port), LOG_LEVEL: "warn" } });
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${o.clientKey}`, "content-type": "application/json" },
        body,
      });
      const text = await response.text();
      if (response.status !== 200) {
        await child.stop();
        throw new Error(`cold start: first request answered ${response.status}: ${text.slice(0, 300)}`);
      }
      return { ms: performance.now() - started, child };
    } catch (error) {
      if ((error as Error).message.startsWith("cold start")) throw error;
      // not listening yet
    }
    if (performance.now() - started > 10_000) {
      await child.stop();
      throw new Error("cold start: no answer within 10 s");
    }
    await Bun.sleep(1);
  }
}

export async function measureStartup(o: StartupOptions): Promise<StartupResult> {
  const times: number[] = [];
  let idle = NaN;
  for (let i = 0; i < o.runs; i++) {
    const run = await firstAnswer(o, await freePort());
    times.push(run.ms);
    if (i === o.runs - 1) {
      await Bun.sleep(2000);
      idle = rssMb(run.child.pid);
    }
    await run.child.stop();
  }
  times.sort((a, b) => a - b);
  // GNU dd's way to drop a file's cached pages (iflag=nocache, count=0): no process maps it now
  const dropped = Bun.spawnSync(["dd", `if=${o.binary}`, "iflag=nocache", "count=0", "status=none"]);
  if (dropped.exitCode !== 0) throw new Error(`dd could not drop the binary's cached pages: ${dropped.stderr.toString()}`);
  const readBack = await firstAnswer(o, await freePort());
  await Bun.sleep(2000);
  const readBackIdle = rssMb(readBack.child.pid);
  await Bun.sleep(QUIET_REST_MS - 2000);
  const quietIdle = rssMb(readBack.child.pid);
  await readBack.child.stop();
  return {
    size_mb: round(Bun.file(o.binary).size / 1024 / 1024, 1),
    cold_start_ms: { median: round(times[o.runs >> 1]!, 1), min: round(times[0]!, 1), max: round(times.at(-1)!, 1), runs: o.runs },
    idle_rss_mb: round(idle, 1),
    idle_rss_read_back_mb: round(readBackIdle, 1),
    idle_rss_quiet_mb: round(quietIdle, 1),
  };
}

if (import.meta.main) {
  const { startSimulator } = await import("../test/harness/simulator.ts");
  const sim = await startSimulator();
  try {
    const binary = resolve(process.argv[2] ?? "dist/azure-proxy");
    const env = { AZURE_OPENAI_ENDPOINT: sim.url, AZURE_OPENAI_API_KEY: sim.key, AUTH_KEY: "bench" };
    console.log(JSON.stringify({ binary, ...(await measureStartup({ binary, env, clientKey: "bench", runs: 15, core: null })) }, null, 2));
  } finally {
    await stopAll();
    await sim.stop();
  }
}
