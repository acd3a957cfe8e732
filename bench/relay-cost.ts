/**
 * By hand: `bun bench/relay-cost.ts [--streams 1000] [--rounds 5]`. The JavaScript the relay
 * spends per event, without sockets: `streams` relays (stream/relay.ts, with the fix-ups and
 * usage tap answer.ts gives an OpenAI-shaped chat stream) read in turn, one event each per
 * turn, as 1000 concurrent streams are read in the streams phase; every source read is a
 * fresh copy of the mock's chunk (bench/mock-upstream.ts), as a fetch body's are. Beside it,
 * a bare pull relay (read, enqueue) over the same sources: the stream machinery alone. The
 * end-to-end figure, with Bun's fetch and server in it, is the streams phase's (bench/phases/
 * streams.ts) and bench/stream-floor.ts's.
 */
import { CONTENT, END, HEAD } from "./lib/azure-sse.ts";
import { parseArgs } from "node:util";
import { streamTransform } from "../src/stream/fixups.ts";
import { relaySse } from "../src/stream/relay.ts";
import { StreamedText } from "../src/stream/usage-estimate.ts";

const { values: args } = parseArgs({
  args: Bun.argv.slice(2),
  options: { streams: { type: "string", default: "1000" }, rounds: { type: "string", default: "5" } },
});
const STREAMS = Number(args.streams);
const encoder = new TextEncoder();
// 64 chunks, as the streams phase sends
const CHUNKS = [HEAD, ...CONTENT.slice(0, 62), END];
// Azure with `stream_options.include_usage` set (the proxy sets it to meter): every chunk ends
// with `"usage":null`, which the relay takes back out for a client that did not ask
const decoder = new TextDecoder();
const WITH_NULL = CHUNKS.map((c) => encoder.encode(decoder.decode(c).replaceAll('"}\n\n', '","usage":null}\n\n')));

function source(chunks = CHUNKS): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (i < chunks.length) controller.enqueue(chunks[i++]!.slice());
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

function ours(chunks = CHUNKS): ReadableStream<Uint8Array> {
  const hooks = { abortUpstream() {}, onFirstChunk() {}, onEnd() {} };
  const transform = streamTransform({ dropAnnotationsWithout: "delta", onUsage: () => {}, usageInjected: true, text: new StreamedText(100, false) });
  return relaySse(source(chunks), hooks, { upstreamName: "bench", end: "done-marker", transform, idleMs: 600_000, heartbeatMs: 15_000 });
}

function bare(): ReadableStream<Uint8Array> {
  const reader = source().getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const read = await reader.read();
        if (read.done) controller.close();
        else controller.enqueue(read.value);
      },
    },
    { highWaterMark: 0 },
  );
}

/** CPU µs per event read by a client, all streams read in turn, one read each per turn. */
async function perEvent(make: () => ReadableStream<Uint8Array>): Promise<number> {
  const readers = Array.from({ length: STREAMS }, () => make().getReader());
  const started = process.cpuUsage();
  let events = 0;
  let open = readers.length;
  while (open > 0) {
    open = 0;
    const reads = await Promise.all(readers.map((r) => r.read()));
    for (const read of reads) {
      if (read.done) continue;
      open++;
      events++;
    }
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / events;
}

const rows: Record<string, number[]> = { bare: [], ours: [], "ours, usage:null": [] };
for (let round = 0; round < Number(args.rounds); round++) {
  rows.bare!.push(await perEvent(bare));
  rows.ours!.push(await perEvent(ours));
  rows["ours, usage:null"]!.push(await perEvent(() => ours(WITH_NULL)));
}
for (const [name, xs] of Object.entries(rows)) {
  const sorted = [...xs].sort((a, b) => a - b);
  console.log(`${name.padEnd(18)} ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} µs/event  (${xs.map((x) => x.toFixed(2)).join(" ")})`);
}
