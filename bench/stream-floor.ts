/**
 * What relaying an SSE stream costs Bun itself, beside ours: tiny relays of the same mock
 * stream under the load of the streams phase (bench/phases/streams.ts: time to first event over
 * sequential streams, 100 streams at once, 1000 streams of 64 chunks 20 ms apart), each pinned
 * to the proxy's core, run from source, and measured in turn (so a burst of other work on the
 * machine spoils one run of each, and the median of the runs stands):
 * - native:     the fetch body handed to the Response as it is (as bench/floor-proxy.ts does);
 * - pull:       a JS ReadableStream (highWaterMark 0) that reads the fetch body and enqueues
 *               each chunk: the shape of src/stream/relay.ts without its framing and fix-ups;
 * - bun-direct: Bun's `type: "direct"` stream, each chunk written and flushed to the socket;
 * - generator:  an async generator as the Response body;
 * - ours:       `src/main.ts serve` of this tree, and of each --root given (a before/after).
 *   bun bench/stream-floor.ts [--runs 3] [--only native,pull,bun-direct,generator,ours]
 *                             [--root DIR]... [--chunks 64] [--no-ttft]
 * --chunks N (e.g. 8 and 256) splits the CPU into a per-stream and a per-event part.
 */
import { FLOOR, serveFloor, UPSTREAM_HEADERS } from "./lib/floor-env.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { LOAD_CORE, PROXY_CORE, QUICK, sseClient, type Ctx } from "./context.ts";
import { cpuMs, disturbed, freePort, pinSelf, start, stopAll, waitForHttp } from "./lib/procs.ts";
import { startMock } from "./mock-control.ts";
import { percentile } from "./lib/stats.ts";
import { CLIENT_KEY, directTarget, proxiedTarget, startOurs, UPSTREAM_KEY, type Target } from "./targets.ts";

const { values: args } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    serve: { type: "string" },
    runs: { type: "string", default: "3" },
    only: { type: "string", default: "native,pull,ours" },
    root: { type: "string", multiple: true },
    chunks: { type: "string", default: "64" },
    "no-ttft": { type: "boolean" },
  },
});

/** The relay itself, when started with --serve MODE. */
function serve(mode: string): void {
  serveFloor(async (request) => {
    const response = await fetch(FLOOR.upstream, { method: "POST", headers: UPSTREAM_HEADERS, body: await request.text(), signal: request.signal });
    const headers = { "content-type": "text/event-stream", "cache-control": "no-cache" };
    if (mode === "native") return new Response(response.body, { status: response.status, headers });
    const reader = response.body!.getReader();
    if (mode === "bun-direct") {
      const direct = new ReadableStream({
        type: "direct",
        async pull(controller: { write(b: Uint8Array): void; flush(): unknown; close(): void }) {
          for (;;) {
            const read = await reader.read();
            if (read.done) break;
            controller.write(read.value);
            await controller.flush();
          }
          controller.close();
        },
        cancel() {
          reader.cancel().catch(() => {});
        },
      } as never);
      return new Response(direct, { status: response.status, headers });
    }
    if (mode === "generator") {
      const gen = (async function* () {
        try {
          for (;;) {
            const read = await reader.read();
            if (read.done) return;
            yield read.value;
          }
        } finally {
          reader.cancel().catch(() => {});
        }
      })();
      return new Response(gen as never, { status: response.status, headers });
    }
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const read = await reader.read();
          if (read.done) controller.close();
          else controller.enqueue(read.value);
        },
        cancel() {
          reader.cancel().catch(() => {});
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: response.status, headers });
  });
}

const CHUNKS = Number(args.chunks);

interface Figures {
  cpuUsPerEvent: number[];
  lost: number[];
  ttftP50: number[];
  ttftP99: number[];
  /** first event p99 of 100 streams opened at once */
  first100P99: number[];
}

async function warm(ctx: Ctx, target: Target): Promise<void> {
  // warm the JIT as the streams phase does (its TTFT slices come first)
  await ctx.mock.configure({ chunks: 16, delayMs: 0 });
  await sseClient(ctx, target, { mode: "ttft", n: 50, warmup: 50, deadlineMs: 60_000 });
}

async function measureOnce(ctx: Ctx, target: Target, f: Figures): Promise<void> {
  if (!args["no-ttft"]) {
    await ctx.mock.configure({ chunks: 16, delayMs: 0 });
    const t = await sseClient(ctx, target, { mode: "ttft", n: 150, warmup: 10, deadlineMs: 60_000 });
    f.ttftP50.push(t.ttfe_ms.p50);
    f.ttftP99.push(t.ttfe_ms.p99);
  }
  await ctx.mock.configure({ chunks: CHUNKS, delayMs: 20 });
  const hundred = await sseClient(ctx, target, { mode: "streams", concurrency: 100, deadlineMs: 60_000 });
  f.first100P99.push(hundred.ttfe_ms.p99);
  const cpu0 = target.pid ? cpuMs(target.pid) : 0;
  const r = await sseClient(ctx, target, { mode: "streams", concurrency: 1000, deadlineMs: 60_000 });
  const cpu = target.pid ? cpuMs(target.pid) - cpu0 : Number.NaN;
  f.cpuUsPerEvent.push((cpu * 1000) / Math.max(1, r.frames_total));
  f.lost.push(1000 * target.expectedFrames(CHUNKS + 1) - r.frames_total + r.errors);
}

const med = (xs: number[]) => percentile(xs, 50);
const fmt = (xs: number[], digits: number) => `${med(xs).toFixed(digits)} (${xs.map((x) => x.toFixed(digits)).join(" ")})`;

async function main() {
  pinSelf(LOAD_CORE);
  const bun = process.execPath;
  const mock = await startMock(await freePort(), LOAD_CORE, bun);
  const ctx = { mode: QUICK, bun, mock } as unknown as Ctx;
  const runs = Number(args.runs);
  const only = new Set(args.only!.split(","));
  const targets: Array<[Target, Figures]> = [[directTarget(mock.port), { cpuUsPerEvent: [], lost: [], ttftP50: [], ttftP99: [], first100P99: [] }]];
  for (const mode of ["native", "pull", "bun-direct", "generator"]) {
    if (!only.has(mode)) continue;
    const port = await freePort();
    const env = { PORT: String(port), UPSTREAM: `http://127.0.0.1:${mock.port}`, CLIENT_KEY, UPSTREAM_KEY, BUN_CONFIG_MAX_HTTP_REQUESTS: "4096" };
    const child = start(`floor-${mode}`, [bun, import.meta.path, "--serve", mode], { core: PROXY_CORE, env });
    await waitForHttp(`http://127.0.0.1:${port}/`, 10_000);
    targets.push([proxiedTarget(mode, port, child.pid, false), { cpuUsPerEvent: [], lost: [], ttftP50: [], ttftP99: [], first100P99: [] }]);
  }
  if (only.has("ours")) {
    for (const root of [resolve(import.meta.dir, ".."), ...(args.root ?? []).map((r) => resolve(r))]) {
      const port = await freePort();
      const child = await startOurs(`ours-${targets.length}`, [bun, join(root, "src/main.ts")], {
        mockPort: mock.port,
        port,
        core: PROXY_CORE,
        // its log: a fresh clone has no bench/results yet
        dir: mkdtempSync(join(tmpdir(), "azure-proxy-stream-floor-")),
        env: { BUN_CONFIG_MAX_HTTP_REQUESTS: "4096" },
      });
      targets.push([proxiedTarget(`ours ${root}`, port, child.pid, true), { cpuUsPerEvent: [], lost: [], ttftP50: [], ttftP99: [], first100P99: [] }]);
    }
  }
  for (const [target] of targets) await warm(ctx, target);
  // interleaved, so a burst of other work on the machine spoils one run of each, not one target
  for (let i = 0; i < runs; i++) for (const [target, f] of targets) await measureOnce(ctx, target, f);
  const results = targets.map(([t, f]) => [t.name, f] as const);
  const direct = targets[0]![1];
  console.log("median (runs)");
  for (const [name, f] of results) {
    console.log(`${name}`);
    console.log(`  1000 streams: CPU per relayed event (us)  ${fmt(f.cpuUsPerEvent, 1)}   lost+errors ${f.lost.join(" ")}`);
    console.log(`  100 streams: first event p99 (ms)         ${fmt(f.first100P99, 2)}`);
    console.log(`  TTFT p50 / p99 (ms)                       ${fmt(f.ttftP50, 3)} / ${fmt(f.ttftP99, 3)}`);
    if (!args["no-ttft"]) console.log(`  added TTFT p99 (ms, median minus direct's) ${(med(f.ttftP99) - med(direct.ttftP99)).toFixed(3)}`);
  }
  for (const d of disturbed) console.log(`other work took ${(d.foreign * 100).toFixed(0)}% of the machine during ${d.label}`);
}

if (args.serve) serve(args.serve);
else
  try {
    await main();
  } finally {
    await stopAll();
  }
