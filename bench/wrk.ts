/** wrk against one target with the chat body; the figures come from wrk/chat.lua's JSON line. */
import { resolve } from "node:path";
import { runToEnd, watchInterference } from "./lib/procs.ts";
import type { Target } from "./targets.ts";

export interface WrkResult {
  requests: number;
  rps: number;
  errors: number;
  non2xx: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
  mean_us: number;
}

const SCRIPT = resolve(import.meta.dir, "wrk/chat.lua");

export async function wrk(target: Target, { connections, seconds, core }: { connections: number; seconds: number; core: number | null }): Promise<WrkResult> {
  const done = watchInterference(`wrk -c${connections} ${target.name}`);
  const out = await runToEnd(["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "5s", "-s", SCRIPT, target.chatUrl], {
    core,
    env: { BENCH_BODY: target.body(false), BENCH_KEY_HEADER: target.keyHeader[0], BENCH_KEY_VALUE: target.keyHeader[1] },
    timeoutMs: (seconds + 20) * 1000,
  });
  done();
  const line = out.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!line) throw new Error(`wrk printed no result:\n${out}`);
  const r = JSON.parse(line.slice(11)) as Omit<WrkResult, "rps"> & { duration_us: number };
  return { ...r, rps: r.requests / (r.duration_us / 1e6) };
}
