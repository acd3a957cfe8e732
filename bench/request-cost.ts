/**
 * By hand: `bun bench/request-cost.ts [--requests 200000] [--concurrency 50] [--rounds 5]`.
 * The JavaScript the proxy spends per non-streamed chat completion, without sockets: the whole
 * app (startProxy with the benchmark's configuration) is handed requests as Bun's server would,
 * and its upstream fetch answers at once with the mock's JSON (bench/mock-upstream.ts). What is
 * left out is exactly Bun's server, Bun's fetch and the kernel: the end-to-end figure with them
 * is bench/cpu.ts's. Run it under `bun --cpu-prof` for a profile with no thread switching in it.
 * Beside it, the same loop over a handler that does what the bun floor does (floor-proxy.ts).
 */
import { parseArgs } from "node:util";
import { startProxy } from "../src/app/start-proxy.ts";
import { loadConfig } from "../src/config/load.ts";
import { createLogger } from "../src/lib/log.ts";
import { bunRuntime } from "../src/runtime/bun.ts";
import type { RuntimeAdapter, ServeOptions } from "../src/runtime/types.ts";
import { JSON_BODY, JSON_HEADERS } from "./lib/azure-json.ts";
import { CLIENT_KEY, UPSTREAM_KEY, oursEnv } from "./targets.ts";

const { values: args } = parseArgs({
  args: Bun.argv.slice(2),
  options: { requests: { type: "string", default: "200000" }, concurrency: { type: "string", default: "50" }, rounds: { type: "string", default: "5" } },
});
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const BODY = JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "Who are you?" }], stream: false });
const URL_ = "http://127.0.0.1:8000/v1/chat/completions";

/** The mock's answer, made fresh per call as a fetch's is. */
const HEADERS = { ...JSON_HEADERS, "content-length": String(Buffer.byteLength(JSON_BODY)) };
const upstreamFetch = (async () => new Response(JSON_BODY, { status: 200, headers: HEADERS })) as unknown as typeof fetch;

type Handler = (request: Request) => Response | undefined | Promise<Response | undefined>;

async function ours(): Promise<Handler> {
  let handler: ServeOptions["fetch"] | undefined;
  const runtime: RuntimeAdapter = {
    ...bunRuntime,
    upstreamFetch,
    async serve(options) {
      handler = options.fetch;
      return { port: 8000, hostname: "127.0.0.1", stop: async () => {}, reloadTls: async () => {} };
    },
  };
  // the reachability probe's one TCP connect needs something listening; nothing is sent to it
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const loaded = loadConfig({ env: oursEnv(listener.port, 8000) });
  if (!loaded.ok) throw new Error(loaded.issues.join("; "));
  // the access log is written as in production, to a sink that keeps nothing
  const log = createLogger("info", "json", () => {});
  await startProxy(loaded.config, runtime, log);
  const upgrade = () => false as never;
  return (request) => handler!(request, upgrade);
}

/** What floor-proxy.ts does, with the same upstream stand-in. */
function floor(): Handler {
  const auth = `Bearer ${CLIENT_KEY}`;
  return async (request) => {
    if (request.headers.get("authorization") !== auth) return new Response("unauthorized", { status: 401 });
    const response = await upstreamFetch("http://127.0.0.1:1/", {
      method: "POST",
      headers: { "api-key": UPSTREAM_KEY },
      body: await request.text(),
      signal: request.signal,
    });
    return new Response(response.body, { status: response.status, headers: response.headers });
  };
}

const request = () =>
  new Request(URL_, {
    method: "POST",
    headers: { host: "127.0.0.1:8000", authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json", "content-length": String(BODY.length) },
    body: BODY,
  });

async function one(handle: Handler): Promise<void> {
  const response = await handle(request());
  if (response === undefined) throw new Error("no response");
  if (response.status !== 200) throw new Error(`status ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
}

async function round(handle: Handler): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next++ < REQUESTS) await one(handle);
  };
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / REQUESTS;
}

const handlers: Array<[string, Handler]> = [
  ["floor", floor()],
  ["ours", await ours()],
];
for (const [name, handle] of handlers) {
  const us: number[] = [];
  await round(handle);
  for (let r = 0; r < Number(args.rounds); r++) us.push(await round(handle));
  us.sort((a, b) => a - b);
  console.log(`${name.padEnd(6)} ${us[Math.floor(us.length / 2)]!.toFixed(2)} us CPU per request (median of ${us.length}; min ${us[0]!.toFixed(2)})`);
}
process.exit(0);
