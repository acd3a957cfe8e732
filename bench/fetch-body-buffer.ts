/**
 * By hand: `BUN_CONFIG_MAX_HTTP_REQUESTS=4096 bun bench/fetch-body-buffer.ts [--streams 1000]`.
 * A minimal reproduction of what one relayed stream costs Bun itself before any of our code
 * runs: `streams` SSE answers from the bench mock (bench/mock-upstream.ts) held open, each
 * either left unread (as a body handed to a Response natively is) or read once from JavaScript
 * (as stream/relay.ts and every JS relay must). Prints the JS heap's growth per stream after a
 * full collection (`bun:jsc` heapStats, which counts the memory typed arrays hold) and the RSS
 * growth. Measured with Bun 1.4.5: unread, heap +0.5 KB and RSS +15 KB per stream; read once,
 * heap +257 KB and RSS +7 KB more (the buffer's pages are never written, so they barely count).
 * Bun's native body source (src/js/builtins/ReadableStreamInternals.ts in Bun,
 * NativeReadableStreamSource) allocates a read buffer of autoAllocateChunkSize, 256 KiB by
 * default, at a stream's first read and keeps it while the stream lives, though each chunk of a
 * fetch body comes back in its own array. 1000 open streams so report ~256 MB of buffers to the
 * collector, which then collects more often ("oversized allocation of 256 KiB" in
 * bench/profile.ts's GC triggers), and peak RSS swings with when it does. The size comes from
 * Bun's native source, not from the reader (a BYOB reader's read on a fetch body never settled).
 */
import { heapStats } from "bun:jsc";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { freePort } from "./lib/procs.ts";

const { values: args } = parseArgs({ args: Bun.argv.slice(2), options: { streams: { type: "string", default: "1000" } } });
const STREAMS = Number(args.streams);
const port = await freePort();
const mock = Bun.spawn([process.execPath, `${import.meta.dir}/mock-upstream.ts`, String(port), "k"], { stdout: "ignore" });
const base = `http://127.0.0.1:${port}`;
for (;;) {
  try {
    await fetch(`${base}/_bench/stats`);
    break;
  } catch {
    await Bun.sleep(20);
  }
}
// slow enough that every stream is still open when the heap is measured
await fetch(`${base}/_bench/config`, { method: "POST", body: JSON.stringify({ chunks: 64, delayMs: 2000 }) });
const url = `${base}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`;
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))![1]);

async function measure(read: boolean): Promise<string> {
  Bun.gc(true);
  const heap0 = heapStats().heapSize;
  const rss0 = rssKb();
  const held: unknown[] = [];
  await Promise.all(
    Array.from({ length: STREAMS }, async () => {
      const response = await fetch(url, { method: "POST", headers: { "api-key": "k" }, body: '{"stream":true}' });
      if (!read) return void held.push(response);
      const reader = response.body!.getReader();
      await reader.read();
      held.push(reader);
    }),
  );
  Bun.gc(true);
  const perStream = (bytes: number) => (bytes / STREAMS / 1024).toFixed(1);
  const line = `${read ? "read once" : "unread   "}: heap +${perStream(heapStats().heapSize - heap0)} KB, RSS +${perStream((rssKb() - rss0) * 1024)} KB per stream`;
  for (const h of held) if (h instanceof Response) await h.body?.cancel();
  for (const h of held) if (!(h instanceof Response)) await (h as ReadableStreamDefaultReader).cancel();
  return line;
}

try {
  console.log(await measure(false));
  console.log(await measure(true));
} finally {
  mock.kill();
}
process.exit(0);
