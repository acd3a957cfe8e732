/**
 * Where the proxy's CPU goes under load: runs it from source under `bun --cpu-prof`, drives
 * non-streaming calls with wrk (or 1000 concurrent streams with --streams) for a few seconds,
 * stops it with SIGTERM (the profile is written on exit), and prints the functions with the
 * most self time, and self time grouped by package / source folder.
 *   bun bench/profile.ts [--streams] [--seconds 10] [--root DIR] [--out DIR]
 * --root: a source tree to profile (default: this one). The .cpuprofile is kept in --out
 * (default bench/results/) for Chrome DevTools / speedscope.
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
    const group = !url ? functionName.startsWith("(") ? functionName : "(native / runtime)" : url.includes("node_modules/") ? `node_modules/${url.split("node_modules/")[1]!.split("/")[0]}` : relative(root, url.replace(/^file:\/\//, "")).split("/").slice(0, 2).join("/");
    byGroup.set(group, (byGroup.get(group) ?? 0) + n);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, n]) => `${((100 * n) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join("\n");
  return `samples: ${total}\n\nself time by package / folder:\n${top(byGroup, 15)}\n\nself time by function:\n${top(byFn, 30)}`;
}

async function main() {
  pinSelf(LOAD_CORE);
  mkdirSync(out, { recursive: true });
  const bun = process.execPath;
  const mock = await startMock(await freePort(), LOAD_CORE, bun);
  const port = await freePort();
  const name = `profile-${args.streams ? "streams" : "requests"}-${Date.now()}.cpuprofile`;
  const child = await startOurs("ours-profiled", [bun, "--cpu-prof", `--cpu-prof-dir=${out}`, `--cpu-prof-name=${name}`, join(root, "src/main.ts")], { mockPort: mock.port, port, core: PROXY_CORE, dir: out });
  const target = proxiedTarget("ours", port, child.pid, true);
  if (args.streams) {
    await mock.configure({ chunks: 64, delayMs: 20 });
    const ctx = { mode: QUICK, bun, mock } as unknown as Ctx;
    for (const until = performance.now() + seconds * 1000; performance.now() < until; ) await sseClient(ctx, target, { mode: "streams", concurrency: 1000, deadlineMs: 30_000 });
  } else {
    const r = await wrk(target, { connections: 50, seconds, core: LOAD_CORE });
    console.error(`wrk: ${r.rps.toFixed(0)} req/s while profiled`);
  }
  await child.stop();
  const file = join(out, name);
  if (!readdirSync(out).includes(name)) throw new Error(`no profile written at ${file}`);
  console.log(summarise(file));
  console.log(`\nprofile: ${file}`);
}

try {
  await main();
} finally {
  await stopAll();
}
