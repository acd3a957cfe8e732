/**
 * The tuning loop's yardstick (about 20 s): CPU per non-streamed request and throughput at 50
 * connections, ours from source (or --binary) beside the bun floor, same mock, same cores as
 * run.ts. CPU per request (utime+stime / requests) moves far less with other work on the
 * machine than req/s does, so it is the figure to compare before and after a change.
 * --threads splits it by thread (user and system µs, context switches, per request of the c50
 * run): Bun's fetch runs on its own "HTTP Client" thread, whose cost and wake-ups a JavaScript
 * profile never shows.
 * C1_SECONDS in the environment: how long the 1-connection run lasts (default 3; its tail wants longer).
 *   bun bench/cpu.ts [--seconds 5] [--warm 2] [--binary PATH] [--root DIR] [--no-floor] [--floor FILE] [--no-ours] [--threads] [--env K=V ...]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { LOAD_CORE, PROXY_CORE } from "./context.ts";
import { startMock } from "./mock-control.ts";
import { cpuMs, freePort, pinSelf, start, stopAll, threadCpu, type ThreadCpu, waitForHttp } from "./lib/procs.ts";
import { CLIENT_KEY, UPSTREAM_KEY, proxiedTarget, startOurs, type Target } from "./targets.ts";
import { wrk } from "./wrk.ts";

const { values: args } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    seconds: { type: "string", default: "5" },
    warm: { type: "string", default: "2" },
    binary: { type: "string" },
    root: { type: "string" },
    "no-floor": { type: "boolean" },
    floor: { type: "string" },
    "no-ours": { type: "boolean" },
    threads: { type: "boolean" },
    env: { type: "string", multiple: true },
  },
});
const root = resolve(args.root ?? join(import.meta.dir, ".."));
const seconds = Number(args.seconds);
const extraEnv: Record<string, string> = Object.fromEntries((args.env ?? []).map((kv) => kv.split("=", 2)));

async function measure(target: Target) {
  await wrk(target, { connections: 50, seconds: Number(args.warm), core: LOAD_CORE });
  const cpu0 = cpuMs(target.pid!);
  const threads0 = threadCpu(target.pid!);
  const r = await wrk(target, { connections: 50, seconds, core: LOAD_CORE });
  const cpu = cpuMs(target.pid!) - cpu0;
  const threads = threadCpu(target.pid!);
  const c1 = await wrk(target, { connections: 1, seconds: Number(process.env.C1_SECONDS ?? 3), core: LOAD_CORE });
  const line = `${target.name.padEnd(10)} ${r.rps.toFixed(0).padStart(7)} req/s  ${((cpu * 1000) / r.requests).toFixed(1).padStart(6)} us CPU/request  c1 p50/p90/p99/p99.9 ${[c1.p50_us, c1.p90_us, c1.p99_us, c1.p999_us].map((us) => (us / 1000).toFixed(3)).join("/")} ms  errors ${r.errors + r.non2xx}`;
  console.log(line);
  if (args.threads) printThreads(threads0, threads, r.requests);
}

function printThreads(before: Map<string, ThreadCpu>, after: Map<string, ThreadCpu>, requests: number) {
  const per = (n: number) => ((n * 1000) / requests).toFixed(1).padStart(5);
  const perSwitch = (n: number) => (n / requests).toFixed(2);
  for (const [name, t] of after) {
    const b = before.get(name);
    const user = t.userMs - (b?.userMs ?? 0);
    const sys = t.sysMs - (b?.sysMs ?? 0);
    if (user + sys === 0) continue;
    const vol = t.voluntary - (b?.voluntary ?? 0);
    const invol = t.involuntary - (b?.involuntary ?? 0);
    console.log(`  ${name.padEnd(14)} user ${per(user)} + sys ${per(sys)} us/request  switches ${perSwitch(vol)} voluntary ${perSwitch(invol)} involuntary`);
  }
}

async function main() {
  pinSelf(LOAD_CORE);
  const bun = process.execPath;
  const dir = mkdtempSync(join(tmpdir(), "azure-proxy-cpu-"));
  const mock = await startMock(await freePort(), LOAD_CORE, bun);
  if (!args["no-floor"]) {
    const port = await freePort();
    const env = { PORT: String(port), UPSTREAM: `http://127.0.0.1:${mock.port}`, CLIENT_KEY, UPSTREAM_KEY, ...extraEnv };
    const floor = start("bun-floor", [bun, resolve(args.floor ?? join(import.meta.dir, "floor-proxy.ts"))], {
      core: PROXY_CORE,
      env,
      log: join(dir, "floor.log"),
    });
    await waitForHttp(`http://127.0.0.1:${port}/`, 10_000);
    await measure(proxiedTarget("bun-floor", port, floor.pid, false));
    await floor.stop(5_000);
  }
  if (args["no-ours"]) return;
  const port = await freePort();
  const cmd = args.binary ? [resolve(args.binary)] : [bun, join(root, "src/main.ts")];
  const ours = await startOurs("ours", cmd, {
    mockPort: mock.port,
    port,
    core: PROXY_CORE,
    dir,
    env: { AZURE_PROXY_WORKERS: "1", ...extraEnv },
  });
  await measure(proxiedTarget("ours", port, ours.pid, true));
  console.log(`(log: ${dir}/ours.log)`);
}

try {
  await main();
} finally {
  await stopAll();
}
