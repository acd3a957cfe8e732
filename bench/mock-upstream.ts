/**
 * A fast fake Azure for the benchmark: answers the dated chat-completions path at once, so what
 * we time is the thing in front of it. Not the simulator (src/simulator): that one validates
 * bodies and injects faults, which costs more per request than a proxy and would hide the
 * proxy's own cost. Run as its own process, pinned by run.ts:
 *   bun bench/mock-upstream.ts <port> <api-key>
 * Non-streaming: Azure's real JSON (docs/azure.md §4.2). `"stream":true` in the body: SSE
 * with Azure's real chunk shape (§3.4): the prompt-filter and role chunks in one write (first
 * token), then content chunks `delayMs` apart, then the finish chunk and `data: [DONE]`.
 * Data events per stream = `chunks` + 1 ([DONE]). Pull-driven (highWaterMark 0), so a slow
 * reader downstream holds the mock back instead of it buffering (the slow-reader test relies
 * on the bytes counted here being what the proxy actually took).
 * Control: POST /_bench/config {chunks, delayMs}; GET /_bench/stats; POST /_bench/reset.
 */
import { AZURE_HEADERS, JSON_BODY, JSON_HEADERS } from "./lib/azure-json.ts";
import { CONTENT, END, HEAD } from "./lib/azure-sse.ts";
const port = Number(process.argv[2] ?? 0);
const apiKey = process.argv[3] ?? "bench-upstream-key";
const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...AZURE_HEADERS };
const PATH = /^\/openai\/deployments\/[^/]+\/chat\/completions$/;

let config = { chunks: 64, delayMs: 0 };
const fresh = () => ({
  requests: 0,
  streamsStarted: 0,
  streamsCompleted: 0,
  streamsCancelled: 0,
  activeStreams: 0,
  maxActiveStreams: 0,
  streamBytes: 0,
  connections: new Set<number>(),
});
let stats = fresh();

function sse(chunks: number, delayMs: number): ReadableStream<Uint8Array> {
  let sent = 0; // data events sent, not counting [DONE]
  let open = true;
  stats.streamsStarted++;
  stats.maxActiveStreams = Math.max(stats.maxActiveStreams, ++stats.activeStreams);
  const close = (how: "streamsCompleted" | "streamsCancelled") => {
    if (!open) return;
    open = false;
    stats.activeStreams--;
    stats[how]++;
  };
  const send = (controller: ReadableStreamDefaultController<Uint8Array>, bytes: Uint8Array) => {
    stats.streamBytes += bytes.byteLength;
    controller.enqueue(bytes);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (sent === 0) {
          sent = 2;
          return send(controller, HEAD);
        }
        if (delayMs > 0) await Bun.sleep(delayMs);
        if (!open) return;
        if (sent < chunks - 1) {
          send(controller, CONTENT[(sent - 2) % CONTENT.length]!);
          sent++;
          return;
        }
        send(controller, END);
        controller.close();
        close("streamsCompleted");
      },
      cancel() {
        close("streamsCancelled");
      },
    },
    { highWaterMark: 0 },
  );
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  idleTimeout: 0,
  async fetch(request, srv) {
    const url = new URL(request.url);
    if (PATH.test(url.pathname) && request.method === "POST") {
      stats.requests++;
      const peer = srv.requestIP(request);
      if (peer) stats.connections.add(peer.port);
      const body = await request.text();
      if (request.headers.get("api-key") !== apiKey)
        return Response.json({ error: { code: "401", message: "Access denied due to invalid subscription key." } }, { status: 401 });
      if (!url.searchParams.get("api-version")) return Response.json({ error: { code: "404", message: "Resource not found" } }, { status: 404 });
      if (!body.includes('"stream":true')) return new Response(JSON_BODY, { headers: JSON_HEADERS });
      srv.timeout(request, 0);
      return new Response(sse(config.chunks, config.delayMs), { headers: SSE_HEADERS });
    }
    if (url.pathname === "/_bench/config" && request.method === "POST") {
      config = { ...config, ...((await request.json()) as Partial<typeof config>) };
      return Response.json(config);
    }
    if (url.pathname === "/_bench/stats") {
      const { connections, ...rest } = stats;
      return Response.json({ ...rest, connections: connections.size });
    }
    if (url.pathname === "/_bench/reset" && request.method === "POST") {
      stats = { ...fresh(), activeStreams: stats.activeStreams };
      return Response.json({ ok: true });
    }
    return new Response("not found", { status: 404 });
  },
});
console.log(JSON.stringify({ listening: server.port }));
