/**
 * The floor for a proxy that reads whole bodies, as ours does for JSON (floor-proxy.ts streams the
 * body through natively): the request body read and parsed, the upstream fetch with an abort
 * signal, Azure's body read whole and answered as bytes. STEPS (comma-separated) adds the
 * primitives ours uses per request, one by one, so each one's price can be read off on its own
 * (bench/cpu.ts --floor bench/floor-buffered.ts --no-ours, STEPS in the environment):
 *   abort  a second AbortController and a listener on the client's signal
 *   timer  the first-byte and idle timers
 *   hdrs   upstream headers built in a Headers object, a request id
 *   hget   the response header reads (headroom, spillover, type, length)
 *   usage  usage read from the body's tail (stream/usage.ts)
 *   kept   the kept response headers (lib/headers.ts)
 *   rid    x-request-id set on the answer
 * Measured on the 2-core bench machine: 24-30 µs per request with none or all of them (the
 * primitives cost about 2 µs together); Bun's server alone answering a constant is about 6 µs.
 */
import { keptUpstreamHeaders } from "../src/lib/headers.ts";
import { usageIn } from "../src/stream/usage.ts";
import { FLOOR, serveFloor, UPSTREAM_HEADERS } from "./lib/floor-env.ts";

const steps = new Set((process.env.STEPS ?? "").split(","));
const decoder = new TextDecoder();
const { upstreamKey } = FLOOR;

serveFloor(async (request) => {
  const body = await request.text();
  JSON.parse(body);
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onGone = () => abort.abort();
  if (steps.has("abort")) {
    request.signal.addEventListener("abort", onGone, { once: true });
    new AbortController();
  }
  if (steps.has("timer")) timer = setTimeout(onGone, 60_000);
  let headers: HeadersInit = UPSTREAM_HEADERS;
  if (steps.has("hdrs")) {
    const h = new Headers({ "api-key": upstreamKey, "user-agent": "azure-proxy" });
    h.set("accept", "application/json");
    h.set("x-ms-client-request-id", crypto.randomUUID());
    h.set("content-type", "application/json");
    headers = h;
  }
  const response = await fetch(FLOOR.upstream, { method: "POST", headers, body, signal: abort.signal, redirect: "manual" });
  if (steps.has("timer")) {
    clearTimeout(timer);
    timer = setTimeout(onGone, 60_000);
  }
  if (steps.has("hget")) {
    for (const name of [
      "x-ratelimit-remaining-requests",
      "x-ratelimit-remaining-tokens",
      "azure-openai-deployment-utilization",
      "content-type",
      "content-length",
    ])
      response.headers.get(name);
    response.headers.has("x-ms-spillover-from-deployment");
  }
  const bytes = await response.arrayBuffer();
  clearTimeout(timer);
  if (steps.has("abort")) request.signal.removeEventListener("abort", onGone);
  if (steps.has("usage")) usageIn(decoder.decode(new Uint8Array(bytes, Math.max(0, bytes.byteLength - 16_384))));
  const answer = new Response(bytes, {
    status: response.status,
    headers: steps.has("kept") ? keptUpstreamHeaders(response.headers) : { "content-type": "application/json" },
  });
  if (steps.has("rid")) answer.headers.set("x-request-id", crypto.randomUUID());
  return answer;
});
// bun --cpu-prof writes its profile at exit
process.on("SIGTERM", () => process.exit(0));
