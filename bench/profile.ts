/**
 * Where the proxy's CPU goes under load: runs it from source under `bun --cpu-prof`, drives
 * non-streaming calls with wrk (or 1000 concurrent streams with --streams) for a few seconds,
 * stops it with SIGTERM (the profile is written on exit), and prints the functions with the
 * most self time, and self time grouped by package / source folder.
 *   bun bench/profile.ts [--streams] [--seconds 10] [--root DIR] [--out DIR]
 * --root: a source tree to profile (default: this one). The .cpuprofile is kept in --out
 * (default bench/results/) for Chrome DevTools / speedscope. The run also counts JSC's garbage
 * collections (BUN_JSC_logGC=1) and what triggered them: an eden GC every few dozen requests,
 * triggered by "oversized" allocations, means something allocates large buffers per request.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { LOAD_CORE, PROXY_CORE, sseClient, type Ctx } from "./context.ts";
import { startMock } from "./mock-control.ts";
import { freePort, pinSelf, stopAll } from "./lib/procs.ts";
import { QUICK } from "./context.ts";
import { proxiedTarget, startOurs } from "./targets.ts";
import { wrk } from "./wrk.ts";

const { values: args } = parseArgs({
  args: Bun.argv.slice(2),
  options: { streams: { type: "boolean" }, seconds: { type: "string", default: "10" }, root: { type: "string" }, out: { type: "string" } },
});
const root = resolve(args.root ?? join(import.meta.dir, ".."));
const out = resolve(args.out ?? join(import.meta.dir, "results"));
const seconds = Number(args.seconds);

/** JSC's "Requesting GC because ..." lines (BUN_JSC_logGC=1), one per collection it asked for. */
function gcLines(file: string): string[] {
  try {
    return readFileSync(file, "latin1")
      .replace(/\0/g, "")
      .split("\n")
      .filter((l) => l.startsWith("Requesting GC"));
  } catch {
    return [];
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

function summarise(file: string) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const total = profile.samples.length;
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byFn = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const node of profile.nodes) {
    const n = hits.get(node.id) ?? node.hitCount ?? 0;
    if (!n) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${relative(root, url.replace(/^file:\/\//, ""))}:${lineNumber + 1}` : "(native)";
    const fn = `${functionName || "(anonymous)"}  ${where}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + n);
    const group = !url
      ? functionName.startsWith("(")
        ? functionName
        : "(native / runtime)"
      : url.includes("node_modules/")
        ? `node_modules/${url.split("node_modules/")[1]!.split("/")[0]}`
        : relative(root, url.replace(/^file:\/\//, ""))
            .split("/")
            .slice(0, 2)
            .join("/");
    byGroup.set(group, (byGroup.get(group) ?? 0) + n);
  }
  // Native self time charged to the nearest JS frame that called it: what our code triggers.
  const parent = new Map<number, ProfileNode>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const byCaller = new Map<string, number>();
  for (const [id, n] of hits) {
    let node = byId.get(id);
    while (node && !node.callFrame.url) node = parent.get(node.id);
    const key = node
      ? `${node.callFrame.functionName || "(anonymous)"}  ${relative(root, node.callFrame.url.replace(/^file:\/\//, ""))}:${node.callFrame.lineNumber + 1}`
      : `${byId.get(id)!.callFrame.functionName || "(anonymous)"} (native, called from the event loop)`;
    byCaller.set(key, (byCaller.get(key) ?? 0) + n);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, n]) => `${((100 * n) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join("\n");
  return [
    `samples: ${total} (1 ms apart: the JS thread only; Bun's HTTP client thread is not in it)`,
    `self time by package / folder:\n${top(byGroup, 12)}`,
    `self time by function:\n${top(byFn, 25)}`,
    `self time with native frames charged to their nearest JS caller:\n${top(byCaller, 25)}`,
  ].join("\n\n");
}

async function main() {
  pinSelf(LOAD_CORE);
  mkdirSync(out, { recursive: true });
  const bun = process.execPath;
  const mock = await startMock(await freePort(), LOAD_CORE, bun);
  const port = await freePort();
  const name = `profile-${args.streams ? "streams" : "requests"}-${Date.now()}.cpuprofile`;
  const child = await startOurs("ours-profiled", [bun, "--cpu-prof", `--cpu-prof-dir=${out}`, `--cpu-prof-name=${name}`, join(root, "src/main.ts")], {
    mockPort: mock.port,
    port,
    core: PROXY_CORE,
    dir: out,
    // set here, so the proxy does not re-execute itself to raise Bun's fetch cap: the new
    // process would run without --cpu-prof (it is in process.execArgv, not process.argv)
    env: { BUN_JSC_logGC: "1", LOG_LEVEL: "warn", BUN_CONFIG_MAX_HTTP_REQUESTS: "16384" },
  });
  const logFile = join(out, "ours-profiled.log");
  const target = proxiedTarget("ours", port, child.pid, true);
  let requests = 0;
  const gcBefore = gcLines(logFile).length;
  if (args.streams) {
    await mock.configure({ chunks: 64, delayMs: 20 });
    const ctx = { mode: QUICK, bun, mock } as unknown as Ctx;
    for (const until = performance.now() + seconds * 1000; performance.now() < until; ) {
      await sseClient(ctx, target, { mode: "streams", concurrency: 1000, deadlineMs: 30_000 });
      requests += 1000;
    }
  } else {
    const r = await wrk(target, { connections: 50, seconds, core: LOAD_CORE });
    console.error(`wrk: ${r.rps.toFixed(0)} req/s while profiled`);
    requests = r.requests;
  }
  const gcs = gcLines(logFile).slice(gcBefore);
  // the profile is written at exit; the proxy may drain open connections first
  await child.stop(40_000);
  const file = join(out, name);
  if (!readdirSync(out).includes(name)) throw new Error(`no profile written at ${file}`);
  console.log(summarise(file));
  const triggers = new Map<string, number>();
  for (const line of gcs) {
    const last = /last oversized: (\d+)/.exec(line)?.[1];
    const key = last && last !== "0" ? `oversized allocation of ${Number(last) / 1024} KiB` : "ordinary allocation";
    triggers.set(key, (triggers.get(key) ?? 0) + 1);
  }
  console.log(`\ngarbage collections: ${gcs.length} over ${requests} requests (one per ${(requests / Math.max(1, gcs.length)).toFixed(0)})`);
  for (const [k, n] of [...triggers].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(6)}  triggered after an ${k}`);
  console.log(`\nprofile: ${file}`);
}

try {
  await main();
} finally {
  await stopAll();
}
